"""GB 32100 unified social credit code validation."""
import pytest
from hypothesis import given
from hypothesis import strategies as st

from models.credit_code import ALPHABET, CreditCodeError, make_credit_code, normalise_credit_code


@pytest.mark.parametrize("code", ["91350100M000100Y43", "91110108551385082Q"])
def test_published_codes_are_valid(code):
    assert normalise_credit_code(code) == code


def test_lower_case_and_spaces_are_normalised():
    assert normalise_credit_code(" 91350100m000100y43 ") == "91350100M000100Y43"


def test_wrong_check_character_is_rejected_with_the_expected_one():
    with pytest.raises(CreditCodeError, match="should be 3, got 4"):
        normalise_credit_code("91350100M000100Y44")


@pytest.mark.parametrize("code", ["", "9135010", "91350100M000100Y433"])
def test_wrong_length_is_rejected(code):
    with pytest.raises(CreditCodeError, match="18 characters"):
        normalise_credit_code(code)


def test_letters_outside_the_alphabet_are_rejected():
    with pytest.raises(CreditCodeError, match="not allowed: I"):
        normalise_credit_code("91350100MI00100Y43")


@given(st.text(alphabet=ALPHABET, min_size=17, max_size=17))
def test_any_body_with_its_check_character_validates(body):
    assert normalise_credit_code(make_credit_code(body)) == make_credit_code(body)


@given(st.text(alphabet=ALPHABET, min_size=17, max_size=17), st.sampled_from(ALPHABET))
def test_changing_the_check_character_invalidates(body, other):
    code = make_credit_code(body)
    if other != code[-1]:
        with pytest.raises(CreditCodeError):
            normalise_credit_code(code[:-1] + other)
