"""The indicators API's query parameters and answer (the dashboard's filters and figures)."""

from rest_framework import serializers

from reports import indicators


class IndicatorQuerySerializer(serializers.Serializer):
    area = serializers.CharField(
        label="区域代码", required=False, allow_blank=True, max_length=12,
        help_text="县、乡镇等的区划代码；不填为本账号的辖区",
    )  # fmt: skip
    school = serializers.CharField(
        label="学校标识码", required=False, allow_blank=True, max_length=10
    )
    school_year = serializers.IntegerField(
        label="学年", required=False, help_text="学年开始的年份，如 2026 表示 2026—2027 学年"
    )
    term = serializers.ChoiceField(
        label="学期", required=False, allow_blank=True, choices=list(indicators.TERMS.items())
    )
    month = serializers.IntegerField(label="月份", required=False, min_value=1, max_value=12)


class _Target(serializers.Serializer):
    source = serializers.CharField()
    percent = serializers.FloatField()


class _Rate(serializers.Serializer):
    numerator = serializers.IntegerField()
    denominator = serializers.IntegerField()
    percent = serializers.FloatField(allow_null=True, help_text="百分数；无法计算时为 null")
    missing = serializers.CharField(help_text="无法计算的原因（缺少的学年、没有户籍名单等）")
    note = serializers.CharField()


class _TargetedRate(_Rate):
    targets = _Target(many=True)


class _Count(serializers.Serializer):
    label = serializers.CharField()
    count = serializers.IntegerField()


class _RankRow(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()
    dropouts = serializers.IntegerField()
    enrolled = serializers.IntegerField()
    percent = serializers.FloatField(allow_null=True)


class _Ranking(serializers.Serializer):
    label = serializers.CharField()
    rows = _RankRow(many=True)


class _Place(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()


class _Period(serializers.Serializer):
    school_year = serializers.IntegerField()
    term = serializers.CharField()
    month = serializers.IntegerField(allow_null=True)
    label = serializers.CharField()


class _OwnRank(serializers.Serializer):
    rank = serializers.IntegerField()
    of = serializers.IntegerField()
    among = serializers.CharField()


class IndicatorsSerializer(serializers.Serializer):
    place = _Place()
    period = _Period()
    definitions = serializers.DictField(child=serializers.CharField())
    dropout_rate = _Rate()
    consolidation_rate = _TargetedRate()
    enrolment_rate = _TargetedRate()
    counts = serializers.DictField(child=_Count(many=True))
    ranking = _Ranking()
    school_ranking = _RankRow(many=True)
    county_ranking = _RankRow(
        many=True, help_text="省级：各县辍学率排名（001：约谈辍学率高的前10个县）"
    )
    own_rank = _OwnRank(allow_null=True)
