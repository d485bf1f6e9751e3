"""Reads of students, always through the jurisdiction filter."""

from django.db.models import Q, QuerySet

from accounts import jurisdiction
from accounts.models import School

from .choices import KeyGroup, TransferStatus
from .identity import normalise_id_number
from .models import Student, Transfer


def students(
    user,
    *,
    query: str = "",
    school: int | None = None,
    klass: int | None = None,
    grade: int | None = None,
    status: str = "",
    key_group: str = "",
) -> QuerySet[Student]:
    """Search by name, ID number or 学籍号; filter by school, class, grade, status, key group."""
    result = Student.objects.for_user(user).select_related("school", "klass")
    query = query.strip()
    if query:
        number = normalise_id_number(query)
        result = result.filter(
            Q(name__icontains=query) | Q(id_number=number) | Q(student_number=number)
        )
    if school:
        result = result.filter(school_id=school)
    if klass:
        result = result.filter(klass_id=klass)
    if grade:
        result = result.filter(grade=grade)
    if status:
        result = result.filter(status=status)
    if key_group in KeyGroup.values:
        result = result.filter(**{key_group: True})
    return result.order_by("school__code", "grade", "klass__name", "name", "id")


def incoming_transfers(user) -> QuerySet[Transfer]:
    """Pending transfers into schools of the user's area, for the receiving school to decide."""
    visible_schools = School.objects.for_user(user)
    return (
        Transfer.objects.for_user(user)
        .filter(status=TransferStatus.PENDING, to_school__in=visible_schools)
        .select_related("student", "from_school", "to_school")
    )


def transfer_targets(user) -> QuerySet[School]:
    """Schools a 转出 may name: any school of the user's county, not only the user's own
    area (school names are public; the child moves only when the receiver accepts)."""
    county = jurisdiction.area_of(user).prefix[:6]
    if len(county) < 6:
        return School.objects.none()
    return School.objects.filter(township__code__startswith=county).order_by("code")
