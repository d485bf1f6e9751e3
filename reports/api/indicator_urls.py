from django.urls import path

from .indicator_views import IndicatorsView

urlpatterns = [path("", IndicatorsView.as_view(), name="api-indicators")]
