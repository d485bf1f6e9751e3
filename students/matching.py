"""Matching people across lists (issue 13 rule 2): the ID number first (students.identity
normalises it); what is left, by name and birth date as a weaker match for a person to
confirm. Names are compared after normalisation: full-width and half-width forms, spaces and
the middle dots of minority and foreign names are not differences."""

import unicodedata

# Middle dots and the like written between the parts of a name (阿依古丽·买买提).
_SEPARATORS = dict.fromkeys(map(ord, "·•・‧.．-‐－ 　\t"), None)


def name_key(name: str) -> str:
    """The form of ``name`` that two spellings of the same name share."""
    return unicodedata.normalize("NFKC", name or "").translate(_SEPARATORS).upper()
