"""Check digits of the unified social credit code (GB 32100-2015)."""

from __future__ import annotations

CREDIT_CODE_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_CREDIT_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def credit_code_check_char(first17: str) -> str:
    """The 18th character for the first 17 of a unified social credit code."""
    total = sum(CREDIT_CODE_ALPHABET.index(c) * w for c, w in zip(first17, _CREDIT_WEIGHTS, strict=True))
    return CREDIT_CODE_ALPHABET[(31 - total % 31) % 31]


def is_valid_credit_code(code: str) -> bool:
    """18 characters from the code's alphabet whose last one is the right check character."""
    if len(code) != 18 or any(c not in CREDIT_CODE_ALPHABET for c in code):
        return False
    return credit_code_check_char(code[:17]) == code[17]


_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"


def is_valid_id_number(number: str) -> bool:
    """An 18-character resident ID number (GB 11643-1999) with a real birth date and the right check character."""
    if len(number) != 18 or not number[:17].isdigit() or number[17] not in "0123456789X":
        return False
    year, month, day = int(number[6:10]), int(number[10:12]), int(number[12:14])
    if not (1900 <= year <= 2100 and 1 <= month <= 12 and 1 <= day <= _days_in(year, month)):
        return False
    return _ID_CHECK[sum(int(c) * w for c, w in zip(number[:17], _ID_WEIGHTS, strict=True)) % 11] == number[17]


def _days_in(year: int, month: int) -> int:
    if month == 2:
        return 29 if year % 4 == 0 and (year % 100 != 0 or year % 400 == 0) else 28
    return 30 if month in (4, 6, 9, 11) else 31


def is_valid_mobile(phone: str) -> bool:
    """A mainland mobile number: 11 digits starting with 1[3-9]."""
    return len(phone) == 11 and phone.isdigit() and phone[0] == "1" and phone[1] in "3456789"


def mask(value: str, keep_start: int, keep_end: int) -> str:
    """`2101**********1234`-style masking that keeps the ends and stars the middle."""
    if len(value) <= keep_start + keep_end:
        return "*" * len(value)
    return value[:keep_start] + "*" * (len(value) - keep_start - keep_end) + value[len(value) - keep_end :]


def mask_id_number(number: str) -> str:
    """An ID number as listings show it: first 4 and last 4 characters."""
    return mask(number, 4, 4)


def mask_phone(phone: str) -> str:
    """A phone number as listings show it: first 3 and last 4 digits."""
    return mask(phone, 3, 4)
