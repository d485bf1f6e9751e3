"""Pages for likely duplicate students (issue 13 rule 4): the pairs the finder proposes, the
merge confirmation, 不是同一人. Thin: parse, call a service, render."""

from django import forms
from django.contrib import messages
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from accounts import jurisdiction
from accounts.views import check
from kongchuo.errors import AppError

from . import duplicates, merge, services
from .models import Student
from .permissions import MERGE


class MergeForm(forms.Form):
    keep = forms.TypedChoiceField(label="保留哪一条记录", coerce=int, widget=forms.RadioSelect)
    reason = forms.CharField(
        label="合并原因",
        max_length=200,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="例如：同一孩子重复建档（一条无身份证号），已与家长电话核实",
    )

    def __init__(self, *args, pair: tuple[Student, Student], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["keep"].choices = [
            (
                s.pk,
                f"{s.name}（{s.school.name}，{'无身份证号' if s.id_missing else s.masked_id_number}）",
            )
            for s in pair
        ]


def _two(request, first: int, second: int) -> tuple[Student, Student]:
    """The two records, inside the user's area (404 otherwise, whoever asks), that the user
    may merge (403 otherwise)."""
    found = []
    for pk in (first, second):
        student = jurisdiction.get_or_404(
            request.user, Student.objects.select_related("school", "klass"), pk=pk
        )
        check(request.user, MERGE, student)
        found.append(student)
    return found[0], found[1]


def duplicate_list(request):
    check(request.user, MERGE)
    return render(request, "students/duplicate_list.html", {"pairs": duplicates.find(request.user)})


def _default_keep(pair: tuple[Student, Student]) -> Student:
    """The record offered to keep: the one with an ID number, else the older one."""
    return min(pair, key=lambda s: (s.id_missing, s.pk))


def merge_confirm(request, first: int, second: int):
    pair = _two(request, first, second)
    form = MergeForm(request.POST or None, pair=pair, initial={"keep": _default_keep(pair).pk})
    if request.method == "POST" and form.is_valid():
        keep = form.cleaned_data["keep"]
        kept, merged = pair if pair[0].pk == keep else pair[::-1]
        try:
            record = services.student_merge(
                by=request.user, keep=kept, merge=merged, reason=form.cleaned_data["reason"]
            )
        except AppError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, merge.summary(record))
            return redirect("student-detail", pk=kept.pk)
    found = duplicates.pair_for(request.user, *pair)
    return render(
        request,
        "students/duplicate_merge.html",
        {"pair": pair, "reasons": found.reasons if found else [], "form": form},
    )


@require_POST
def pair_dismiss(request, first: int, second: int):
    one, other = _two(request, first, second)
    try:
        duplicates.pair_dismiss(
            by=request.user, first=one, second=other, note=request.POST.get("note", "")
        )
    except AppError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request,
            f"已记录：{one.name}与{other.name}不是同一人，系统不会再把这两条记录列为疑似重复。",
        )
    return redirect("students-duplicates")
