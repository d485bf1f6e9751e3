"""Matching people across lists (issue 13 rule 2): the ID number first (students.identity
normalises it); what is left, by name and birth date as a weaker match for a person to
confirm. Names are compared after normalisation: full-width and half-width forms, spaces and
the middle dots of minority and foreign names are not differences.

Homophones (``sound_keys``): two names sound alike when, reading each character in any of
its readings (pypinyin's heteronyms, tones ignored), some reading of one equals some reading
of the other — 张晓丽 and 张小莉, 曾 read zeng or ceng. Limits, on purpose:

- readings are pypinyin's dictionary, character by character (no phrase context: a name has
  none), so a character it does not know is compared as itself;
- only tones are ignored: dialect confusions (n/l, zh/z, in/ing) are not matched, nor are
  near-homophones or a name written with one character more or less;
- a name whose characters have many readings each is cut to its first ``MAX_READINGS``
  sequences (in pypinyin's order, commonest readings first), so one such name cannot blow
  up the work of a county;
- sounding alike proves nothing: a homophone is a hint for a person to confirm, with the
  birth date and a guardian beside it (students.duplicates).

Cost: each distinct character is looked up once per process (cached); a county of 10,000
children is keyed in well under a second.
"""

import itertools
import unicodedata
from functools import lru_cache

from pypinyin import Style, pinyin

# Middle dots and the like written between the parts of a name (阿依古丽·买买提).
_SEPARATORS = dict.fromkeys(map(ord, "·•・‧.．-‐－ 　\t"), None)
# The reading sequences kept per name (a name of four characters with three readings each
# would have 81).
MAX_READINGS = 16


def name_key(name: str) -> str:
    """The form of ``name`` that two spellings of the same name share."""
    return unicodedata.normalize("NFKC", name or "").translate(_SEPARATORS).upper()


@lru_cache(maxsize=20000)
def _readings(char: str) -> tuple[str, ...]:
    """Every toneless reading of one character; a character without one stands for itself."""
    found = pinyin(char, style=Style.NORMAL, heteronym=True, errors="default")[0]
    readings = tuple(dict.fromkeys(reading.upper() for reading in found if reading))
    return readings or (char,)


def sound_keys(name: str) -> frozenset[str]:
    """Every way ``name`` may be read aloud (readings of its characters joined by spaces);
    two names sound alike when their keys meet (``sound_alike``)."""
    key = name_key(name)
    if not key:
        return frozenset()
    sequences = itertools.islice(
        itertools.product(*(_readings(char) for char in key)), MAX_READINGS
    )
    return frozenset(" ".join(sequence) for sequence in sequences)


def sound_alike(first: str, second: str) -> bool:
    """Whether some reading of ``first`` is a reading of ``second`` (tones ignored)."""
    return not sound_keys(first).isdisjoint(sound_keys(second))
