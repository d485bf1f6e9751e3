"""Reads of students, always through the jurisdiction filter."""

import operator
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import reduce

from django.db.models import Q, QuerySet

from accounts.models import School, SchoolClass, current_school_year
from kongchuo import crypto
from kongchuo.masking import mask_phone

from .choices import KeyGroup, Status, TransferStatus
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
            Q(name__icontains=query)
            | Q(id_hash=crypto.match_hash(number))
            | Q(student_number=number)
        )
    if school:
        result = result.filter(school_id=school)
    if klass:
        result = result.filter(klass_id=klass)
    if grade:
        result = result.filter(grade=grade)
    # A duplicate merged into another record is found only by asking for 已合并.
    result = result.filter(status=status) if status else result.exclude(status=Status.MERGED)
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


def transfer_targets(student: Student | None = None) -> QuerySet[School]:
    """The schools a 转出 may name: any school of the system but the student's own. Children
    move across counties; school names are public, and the child moves only when the
    receiving school accepts. services.event_record holds every 转出 to this."""
    schools = School.objects.order_by("code")
    return schools if student is None else schools.exclude(pk=student.school_id)


def _class_for(school_id: int, grade: int, year: int) -> Q:
    return Q(school_id=school_id, grade=grade, school_year=year)


def transfer_classes(transfer: Transfer) -> QuerySet[SchoolClass]:
    """The classes an accepted transfer may put the child in: the receiving school's classes
    of the child's grade in the current school year."""
    condition = _class_for(transfer.to_school_id, transfer.student.grade, current_school_year())
    return SchoolClass.objects.filter(condition).order_by("name")


def transfer_class_choices(transfers) -> dict[int, list[SchoolClass]]:
    """``transfer_classes`` of each of ``transfers`` (with their students), by transfer id,
    in one query."""
    transfers = list(transfers)
    if not transfers:
        return {}
    year = current_school_year()
    wanted = {(t.to_school_id, t.student.grade) for t in transfers}
    found: dict[tuple[int, int], list[SchoolClass]] = {key: [] for key in wanted}
    condition = reduce(operator.or_, (_class_for(s, g, year) for s, g in wanted))
    for klass in SchoolClass.objects.filter(condition).order_by("name"):
        found[(klass.school_id, klass.grade)].append(klass)
    return {t.pk: found[(t.to_school_id, t.student.grade)] for t in transfers}


def filter_classes(user, *, school: int | None) -> QuerySet[SchoolClass]:
    """The classes a list page's class filter offers: those of the chosen school, or for a
    school account its own; none before a region account has chosen a school (a county has
    thousands of classes)."""
    classes = (
        SchoolClass.objects.for_user(user)
        .select_related("school")
        .order_by("school__code", "grade", "name")
    )
    if school:
        return classes.filter(school_id=school)
    return classes if user.school_id else classes.none()


_DIALABLE = re.compile(r"\+?\d{5,20}")


@dataclass(frozen=True)
class Contact:
    """A number to call about a child: a guardian on the student record, or one that a
    higher app's record about the child holds (a ledger entry's 父母联系方式)."""

    name: str
    relation: str
    phone: str

    @property
    def masked_phone(self) -> str:
        return mask_phone(self.phone)

    @property
    def dial(self) -> str:
        """The number as a phone dials it (a ``tel:`` link), or "" when the text is not
        just a number (a ledger entry's contact is free text)."""
        number = self.phone.replace(" ", "").replace("-", "")
        return number if _DIALABLE.fullmatch(number) else ""


def contacts(student: Student | None, extra: Iterable[Contact] = ()) -> list[Contact]:
    """The guardians of ``student`` (one query), then each of ``extra`` whose number is not
    listed yet. Shown masked (``masked_phone``) unless revealed through
    ``services.reveal_contacts``."""
    found = (
        [Contact(g.name, g.relation, g.phone) for g in student.guardians.all()]
        if student is not None
        else []
    )
    numbers = {contact.phone for contact in found if contact.phone}
    for contact in extra:
        if contact.phone and contact.phone not in numbers:
            found.append(contact)
            numbers.add(contact.phone)
    return found
