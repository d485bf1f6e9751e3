"""Student pages. Thin: parse, call a service, render; every record through jurisdiction."""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST
from django.views.generic import DetailView, ListView

from accounts import jurisdiction, views_log
from accounts.choices import Capability, JobKind
from accounts.forms import PlaceFilterForm
from accounts.permissions import refusal
from accounts.views import ScopedMixin, ServiceFormView, check, start_job
from kongchuo.errors import AppError
from kongchuo.filters import page_integer

from . import merge, selectors, services
from .choices import KeyGroup, Status
from .forms import EventForm, StudentForm, TransferDecisionForm
from .models import Student, Transfer
from .panels import student_page
from .permissions import GUARDIAN_PHONES


def school_filter(params, user) -> PlaceFilterForm:
    """The list's school filter: a code from the search field."""
    return PlaceFilterForm(params, user=user, fields=("school",))


def list_filters(params, places: PlaceFilterForm) -> dict:
    """The list's search and filters from query parameters (the export takes the same). The
    school comes as a code from the search field, read by ``places``."""

    def number(name):
        # An id or grade no record can have (too large, not a whole number) matches nothing.
        return page_integer(params.get(name))

    return {
        "query": params.get("q", ""),
        **places.ids(),
        "klass": number("class"),
        "grade": number("grade"),
        "status": params.get("status", ""),
        "key_group": params.get("key_group", ""),
    }


@require_POST
def roster_export(request):
    check(request.user, Capability.MANAGE_STUDENTS)
    params = {
        "filters": list_filters(request.POST, school_filter(request.POST, request.user)),
        "reveal": request.POST.get("reveal") == "1",
        # Our template, or the national 学籍 system's layout (the job checks the name).
        "layout": request.POST.get("layout", ""),
    }
    return start_job(request, kind=JobKind.ROSTER_EXPORT, params=params, back="student-list")


class StudentListView(ScopedMixin, ListView):
    model = Student
    template_name = "students/student_list.html"
    paginate_by = 50

    def get_queryset(self):
        self.places = school_filter(self.request.GET, self.request.user)
        self.filters = list_filters(self.request.GET, self.places)
        return selectors.students(self.request.user, **self.filters)

    def get_context_data(self, **kwargs):
        user = self.request.user
        return {
            **super().get_context_data(**kwargs),
            "places": self.places,
            "classes": selectors.filter_classes(user, school=self.filters["school"]),
            "statuses": Status.choices,
            "key_groups": KeyGroup.choices,
            "grades": range(1, 10),
            "incoming": selectors.incoming_transfers(user).count(),
        }


class StudentDetailView(ScopedMixin, DetailView):
    """The student's record, and what a verification call needs: the panels higher apps
    add (the open ledger entry, the recent school days — ``students.panels``) and the
    guardians' numbers, masked unless revealed."""

    model = Student
    template_name = "students/student_detail.html"

    def get_queryset(self):
        return super().get_queryset().select_related("school", "klass", "hukou_region")

    def get(self, request, *args, **kwargs):
        self.object = student = self.get_object()
        if student.merged_into_id:  # a duplicate merged into another record (students.merge)
            messages.info(request, f"编号{student.pk}的记录是重复记录，已合并到本记录。")
            return redirect("student-detail", pk=student.merged_into_id)
        views_log.page_view(request, student)
        return self.render_to_response(self.get_context_data(object=student))

    def get_context_data(self, **kwargs):
        student, user = self.object, self.request.user
        return {
            **super().get_context_data(**kwargs),
            # With the events of the records merged into this one.
            "events": merge.history(student).select_related("school", "other_school", "operator"),
            "merges": merge.merges(student).select_related("by"),
            "contacts": selectors.contacts(student),
            "contacts_url": reverse("student-contacts", args=[student.pk]),
            "contacts_refusal": refusal(user, GUARDIAN_PHONES, student),
            "transfers": student.transfers.select_related("from_school", "to_school"),
            "panels": student_page.panels(user, student),
        }


class StudentCreateView(ServiceFormView):
    requires = Capability.MANAGE_STUDENTS
    form_class = StudentForm
    title = "新增学生"
    success_message = "学生档案已建立。"

    def get_initial(self):
        # ?school=<学校标识码> (from a school's page), else the account's own school.
        user = self.request.user
        school = self.request.GET.get("school") or user.school
        return {"school": school} if school else {}

    def perform(self, data):
        return services.student_create(by=self.request.user, data=self.form.to_data())

    def get_success_url(self, saved):
        return reverse("student-detail", args=[saved.pk])


class StudentUpdateView(StudentCreateView):
    target_model = Student
    title = "修改学生信息：{target.name}"
    success_message = "学生信息已保存。"

    def get_initial(self):
        return StudentForm.initial_for(self.target)

    def perform(self, data):
        return services.student_update(
            by=self.request.user, student=self.target, data=self.form.to_data()
        )


class EventCreateView(ServiceFormView):
    requires = Capability.MANAGE_STUDENTS
    form_class = EventForm
    target_model = Student
    title = "登记学籍异动：{target.name}"
    success_message = "学籍异动已登记。"

    def perform(self, data):
        return services.event_record(by=self.request.user, student=self.target, **data)

    def get_success_url(self, saved):
        if isinstance(saved, Transfer):
            self.success_message = f"转学申请已提交，等待{saved.to_school.name}确认接收。"
        return reverse("student-detail", args=[self.target.pk])


@require_POST
def reveal(request, pk):
    student = jurisdiction.get_or_404(request.user, Student.objects.select_related("school"), pk=pk)
    check(request.user, Capability.REVEAL_IDENTITY)
    try:
        id_number = services.reveal_id_number(by=request.user, student=student)
    except AppError as exc:
        messages.error(request, exc.message)
        return redirect("student-detail", pk=pk)
    return render(
        request,
        "students/reveal.html",
        {
            "title": student.name,
            "id_number": id_number,
            "back": reverse("student-detail", args=[pk]),
        },
    )


@require_POST
def contacts_reveal(request, pk):
    """The guardians' full numbers, to call them (students.services.reveal_contacts)."""
    student = jurisdiction.get_or_404(request.user, Student, pk=pk)
    check(request.user, GUARDIAN_PHONES, student)
    try:
        contacts = services.reveal_contacts(by=request.user, record=student, student=student)
    except AppError as exc:
        messages.error(request, exc.message)
        return redirect("student-detail", pk=pk)
    return render(
        request,
        "students/reveal.html",
        {
            "title": student.name,
            "contacts": contacts,
            "back": reverse("student-detail", args=[pk]),
        },
    )


def transfer_list(request):
    transfers = list(selectors.incoming_transfers(request.user))
    # Each transfer offers only the classes it may put the child in (services.transfer_decide).
    classes = selectors.transfer_class_choices(transfers)
    return render(
        request,
        "students/transfer_list.html",
        {"rows": [(transfer, classes[transfer.pk]) for transfer in transfers]},
    )


@require_POST
def transfer_decide(request, pk):
    transfer = jurisdiction.get_or_404(
        request.user, selectors.incoming_transfers(request.user), pk=pk
    )
    check(request.user, Capability.MANAGE_STUDENTS)
    form = TransferDecisionForm(request.POST, user=request.user, transfer=transfer)
    if not form.is_valid():
        messages.error(request, "；".join(e for errors in form.errors.values() for e in errors))
        return redirect("transfer-list")
    try:
        services.transfer_decide(
            by=request.user,
            transfer=transfer,
            accept=request.POST.get("decision") == "accept",
            klass=form.cleaned_data["klass"],
            note=form.cleaned_data["note"],
        )
    except AppError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"已处理{transfer.student.name}的转学申请。")
    return redirect("transfer-list")
