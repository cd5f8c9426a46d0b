"""The example CRM's pages: its deals, and one deal."""

from deals import views
from django.urls import path

urlpatterns = [
    path("deals/", views.DealList.as_view(), name="deal-list"),
    path("deals/<int:pk>/", views.DealDetail.as_view(), name="deal-detail"),
]
