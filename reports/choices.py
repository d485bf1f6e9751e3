from django.db import models


class Period(models.TextChoices):
    """The periods the levels above the school sign off (四个一, 003): the county reviews each
    quarter, the city each term, the province each year."""

    QUARTER = "quarter", "季度"
    TERM = "term", "学期"
    YEAR = "year", "年度"
