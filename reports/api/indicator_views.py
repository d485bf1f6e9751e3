"""GET /api/v1/indicators/: the dashboard's figures with the dashboard's filters, from the
same service and jurisdiction (an area outside the caller's: 404)."""

from drf_spectacular.utils import extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from reports import indicators

from .indicator_serializers import IndicatorQuerySerializer, IndicatorsSerializer


class IndicatorsView(APIView):
    """辍学率、九年义务教育巩固率、小学净入学率 (with their definitions and targets), the
    dropouts by month, reason, key group, grade and area, and the rankings, for one area and
    one school year, term or month."""

    @extend_schema(parameters=[IndicatorQuerySerializer], responses=IndicatorsSerializer)
    def get(self, request):
        query = IndicatorQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        data = query.validated_data
        period = indicators.period_of(
            data.get("school_year"), data.get("term", ""), data.get("month")
        )
        place = indicators.resolve_place(
            request.user, area=data.get("area", ""), school=data.get("school", "")
        )
        return Response(indicators.indicators(request.user, place, period).as_dict())
