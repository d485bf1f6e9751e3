"""The county 月报表 workbook for 300 schools (issue 14)."""


def run() -> None:
    raise NotImplementedError
