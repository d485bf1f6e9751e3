"""How personal identifiers are shown where the full value is not needed (DOMAIN.md §10)."""


def mask_phone(phone: str) -> str:
    """``13812345678`` → ``138****5678``."""
    if not phone:
        return ""
    if len(phone) < 8:
        return "*" * len(phone)
    return f"{phone[:3]}****{phone[-4:]}"


def mask_id_number(id_number: str) -> str:
    """Any identity document's number, of any length: ``11010519491231002X`` →
    ``110105********002X`` (18 characters, and the 15 of a 永久居留证: the place code and the
    last four show); a shorter one — a 港澳 identity card, a passport, a 台湾 通行证 — keeps
    only its first and last two characters (``E12345678`` → ``E******78``), so that at most a
    third of it ever shows; fewer than 6 characters are hidden whole."""
    if not id_number:
        return ""
    length = len(id_number)
    if length >= 15:
        return f"{id_number[:6]}{'*' * (length - 10)}{id_number[-4:]}"
    if length >= 6:
        return f"{id_number[0]}{'*' * (length - 3)}{id_number[-2:]}"
    return "*" * length
