"""Unified social credit code check characters (GB 32100-2015)."""

from domain.identifiers import credit_code_check_char, is_valid_credit_code


def test_published_codes_validate() -> None:
    # Codes printed on public business licences.
    for code in ("91350100M000100Y43", "911101080828461726", "91110000100010433L"):
        assert is_valid_credit_code(code), code


def test_a_changed_character_or_bad_shape_is_rejected() -> None:
    assert not is_valid_credit_code("91350100M000100Y44")
    assert not is_valid_credit_code("91350100M000100Y4")
    assert not is_valid_credit_code("91350100M000100YI3")  # I is not in the alphabet
    assert credit_code_check_char("91350100M000100Y4") == "3"


def test_resident_id_numbers_check_digit_and_birth_date() -> None:
    from domain.identifiers import is_valid_id_number, mask_id_number, mask_phone

    assert is_valid_id_number("11010519491231002X")  # the standard's own example
    assert not is_valid_id_number("110105194912310021")  # wrong check character
    assert not is_valid_id_number("110105194902300028")  # 30 February
    assert not is_valid_id_number("11010519491231002")  # too short
    assert mask_id_number("210102198503120011") == "2101**********0011"
    assert mask_phone("13800001234") == "138****1234"
