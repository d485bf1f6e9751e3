"""Keeps ID numbers and phone numbers out of every log line."""

import logging
import re

# 18-character resident ID (17 digits + digit or X) and mainland mobile numbers.
_ID_NUMBER = re.compile(r"(?<!\d)\d{17}[\dXx](?![\dXx])")
_PHONE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")


def redact(text: str) -> str:
    text = _ID_NUMBER.sub("[身份证号已隐藏]", text)
    return _PHONE.sub("[电话已隐藏]", text)


class RedactPersonalData(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True
