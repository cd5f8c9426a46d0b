"""The CRM's pages: the deals a user may see (one query), and one deal, if they may see it."""

from typing import Any

from django.contrib.auth.mixins import LoginRequiredMixin
from django.db.models import CharField, OuterRef, QuerySet, Subquery
from django.db.models.functions import Cast
from django.http import Http404
from django.views.generic import DetailView, ListView

from deals.models import Deal
from ownership.contrib.django import visible_to
from ownership.contrib.django.models import HoldingRow


class DealList(LoginRequiredMixin, ListView):  # type: ignore[type-arg]
    """The deals the user may view, largest first, a page of 25 at a time."""

    paginate_by = 25
    context_object_name = "deals"

    def get_queryset(self) -> QuerySet[Deal]:
        """The user's deals, with each one's owner: `ownership`'s rule and its table, inside the CRM's own query."""
        owner = HoldingRow.objects.filter(kind="deal", record_id=Cast(OuterRef("pk"), CharField()), role="owner")
        deals = Deal.objects.annotate(owner=Subquery(owner.values("assignee_id")[:1]))
        return visible_to(deals, self.request.user).order_by("-amount", "id")


class DealDetail(LoginRequiredMixin, DetailView):  # type: ignore[type-arg]
    """One deal, for a user who may view it; for anyone else, no such page."""

    model = Deal

    def get_object(self, queryset: QuerySet[Deal] | None = None) -> Any:
        """The deal, if the user may view it (``has_perm`` asks `ownership`)."""
        deal = super().get_object(queryset)
        if not self.request.user.has_perm("deals.view_deal", deal):
            raise Http404("No deal found matching the query")
        return deal
