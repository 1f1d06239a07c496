"""Normalisers for master-data attributes, shared by matching and search.

Every function is pure and total: it takes a raw value (and, where the meaning of the
value depends on it, the record's country) and returns a canonical form or ``None``.
They never raise on bad input because source systems send anything.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache

import phonenumbers
import pycountry
from anyascii import anyascii
from stdnum import bic as stdnum_bic
from stdnum.eu import vat as eu_vat
from stdnum.exceptions import ValidationError
from stdnum.util import get_cc_module

__all__ = [
    "CompanyName",
    "TaxId",
    "fold_text",
    "normalize_bic",
    "normalize_code",
    "normalize_company_name",
    "normalize_country",
    "normalize_date",
    "normalize_email_domain",
    "normalize_iban",
    "normalize_number",
    "normalize_phone",
    "normalize_postcode",
    "normalize_street",
    "normalize_tax_id",
    "normalize_text",
    "normalize_website_domain",
]

_PUNCT = re.compile(r"[^a-z0-9 ]+")
_SPACES = re.compile(r"\s+")
# "s.a." / "b.v." / "sp. z o.o." -> "sa" / "bv" / "sp z oo": dotted initials are one token.
_DOTTED_INITIALS = re.compile(r"\b(?:[a-z]\.){2,}|\b(?:[a-z]\.)(?=[a-z]\b)")
# German umlauts are often typed as digraphs; folding both spellings onto the bare
# vowel makes "Müller", "Mueller" and "Muller" meet (anyascii already turns ü into u).
_DIGRAPHS = re.compile(r"(?<=[a-z])(ae|oe|ue)")


def _digraph_fold(match: re.Match[str]) -> str:
    return match.group(1)[0]


@lru_cache(maxsize=65536)
def fold_text(value: str) -> str:
    """Lower-case ASCII with umlaut digraphs folded and punctuation turned into spaces."""
    text = anyascii(unicodedata.normalize("NFKC", value)).lower()
    text = text.replace("&", " and ").replace("+", " and ")
    text = _DOTTED_INITIALS.sub(lambda m: m.group(0).replace(".", ""), text)
    text = _DIGRAPHS.sub(_digraph_fold, text)
    text = _PUNCT.sub(" ", text)
    return _SPACES.sub(" ", text).strip()


def normalize_text(value: str | None) -> str | None:
    """Generic free text (person names, cities): folded, or None when empty."""
    if value is None:
        return None
    folded = fold_text(str(value))
    return folded or None


def normalize_code(value: str | None) -> str | None:
    """Codes and identifiers without a checksum: upper case, separators removed."""
    if value is None:
        return None
    code = re.sub(r"[\s\-./_]+", "", anyascii(str(value))).upper()
    return code or None


# --- company names -----------------------------------------------------------------

# Canonical legal form -> spellings. Spellings are written naturally and folded with
# the same pipeline as names at import time, so "beschränkter" and "beschraenkter"
# need one entry.
_LEGAL_FORMS: dict[str, tuple[str, ...]] = {
    "gmbh & co kg": ("gmbh & co kg", "gmbh & co. kg", "gmbh und co kg", "gmbh co kg"),
    "gmbh": ("gmbh", "gesellschaft mit beschränkter haftung", "ges.m.b.h.", "ges mbh"),
    "ag": ("ag", "aktiengesellschaft"),
    "kgaa": ("kgaa", "kommanditgesellschaft auf aktien"),
    "kg": ("kg", "kommanditgesellschaft"),
    "ohg": ("ohg", "offene handelsgesellschaft"),
    "ug": ("ug (haftungsbeschränkt)", "ug haftungsbeschränkt", "ug"),
    "ev": ("e.v.", "eingetragener verein"),
    "se": ("se", "societas europaea"),
    "plc": ("plc", "public limited company", "p.l.c."),
    "ltd": (
        "ltd", "limited", "co ltd", "co. ltd.", "company limited", "pvt ltd",
        "private limited", "pte ltd", "pte. ltd.",
    ),
    "pty ltd": ("pty ltd", "pty. ltd.", "proprietary limited", "pty limited"),
    "llc": ("llc", "l.l.c.", "limited liability company"),
    "llp": ("llp", "l.l.p.", "limited liability partnership"),
    "lp": ("lp", "l.p.", "limited partnership"),
    "inc": ("inc", "incorporated"),
    "corp": ("corp", "corporation"),
    "sa de cv": ("sa de cv", "s.a. de c.v."),
    "sas": ("sas", "s.a.s.", "société par actions simplifiée"),
    "sarl": ("sarl", "s.a.r.l.", "société à responsabilité limitée"),
    "sa": (
        "sa", "s.a.", "société anonyme", "sociedad anónima", "sociedade anónima",
        "sociedade anonima",
    ),
    "sl": ("sl", "s.l.", "sociedad limitada", "slu", "s.l.u."),
    "ltda": ("ltda", "limitada"),
    "bv": ("bv", "b.v.", "besloten vennootschap"),
    "nv": ("nv", "n.v.", "naamloze vennootschap"),
    "spa": ("spa", "s.p.a.", "società per azioni"),
    "srl": ("srl", "s.r.l.", "società a responsabilità limitata"),
    "oyj": ("oyj", "julkinen osakeyhtiö"),
    "oy": ("oy", "osakeyhtiö"),
    "ab": ("ab", "aktiebolag", "aktiebolaget"),
    "as": ("as", "a/s", "asa", "aktieselskab", "aksjeselskap"),
    "aps": ("aps", "anpartsselskab"),
    "sp z oo": (
        "sp. z o.o.", "sp z oo", "sp. z.o.o.", "spółka z ograniczoną odpowiedzialnością",
    ),
    "sro": ("s.r.o.", "sro", "spol. s r.o.", "spol s ro"),
    "kft": ("kft", "kft."),
    "zrt": ("zrt", "zrt."),
    "doo": ("d.o.o.", "doo"),
    "ooo": ("ooo",),
    "kk": ("kk", "k.k.", "kabushiki kaisha", "kabushiki gaisha"),
}

# Long word -> the abbreviation both spellings are mapped to.
_ABBREVIATIONS: dict[str, str] = {
    "international": "intl",
    "internacional": "intl",
    "internationale": "intl",
    "int": "intl",
    "corporation": "corp",
    "company": "co",
    "companies": "cos",
    "manufacturing": "mfg",
    "brothers": "bros",
    "industries": "ind",
    "industrie": "ind",
    "industry": "ind",
    "technologies": "tech",
    "technology": "tech",
    "associates": "assoc",
    "association": "assoc",
    "services": "svcs",
    "service": "svc",
    "systems": "sys",
    "holdings": "hldgs",
    "holding": "hldg",
    "group": "grp",
    "gruppe": "grp",
    "groupe": "grp",
    "department": "dept",
    "laboratories": "labs",
    "und": "and",
    "et": "and",
}
_ABBREVIATIONS = {fold_text(k): v for k, v in _ABBREVIATIONS.items()}
_STOPWORDS = frozenset({"the"})


def _legal_form_table() -> dict[str, list[tuple[tuple[str, ...], str]]]:
    """Spellings indexed by their last word, longest first ("gmbh co kg" before "kg")."""
    table: dict[str, list[tuple[tuple[str, ...], str]]] = {}
    for canonical, spellings in _LEGAL_FORMS.items():
        for spelling in spellings:
            words = tuple(fold_text(spelling).split())
            table.setdefault(words[-1], []).append((words, canonical))
    for entries in table.values():
        entries.sort(key=lambda item: -len(item[0]))
    return table


_LEGAL_FORM_TABLE = _legal_form_table()
# Forms written before the name (Russian OOO, Indonesian PT, Romanian SC).
_PREFIX_LEGAL_FORMS = {"ooo": "ooo", "pt": "pt", "sc": "sc"}


@dataclass(frozen=True, slots=True)
class CompanyName:
    """A company name split into the distinctive part and its legal form."""

    core: str | None
    legal_form: str | None


@lru_cache(maxsize=131072)
def normalize_company_name(value: str | None) -> CompanyName:
    """Split a company name into its core and a canonical legal form.

    The legal form is recognised at the end of the name (where nearly every
    jurisdiction puts it) or at the start (Romanian "SC", Russian "OOO" style).
    """
    if not value:
        return CompanyName(None, None)
    tokens = fold_text(value).split()
    legal_form = None
    for spelling, canonical in _LEGAL_FORM_TABLE.get(tokens[-1], ()) if tokens else ():
        n = len(spelling)
        if len(tokens) > n and tuple(tokens[-n:]) == spelling:
            tokens = tokens[:-n]
            legal_form = canonical
            break
    if legal_form is None:
        if len(tokens) > 1 and tokens[0] in _PREFIX_LEGAL_FORMS:
            legal_form = _PREFIX_LEGAL_FORMS[tokens[0]]
            tokens = tokens[1:]
    core = [_ABBREVIATIONS.get(t, t) for t in tokens if t not in _STOPWORDS]
    # A trailing "co"/"company" left behind by "... & Co." carries no identity.
    while len(core) > 1 and core[-1] in {"and", "co"}:
        core.pop()
    return CompanyName(" ".join(core) or None, legal_form)


# --- addresses -------------------------------------------------------------------

_STREET_WORDS: dict[str, str] = {
    "strasse": "str", "str": "str", "street": "st", "st": "st", "avenue": "ave",
    "av": "ave", "ave": "ave", "road": "rd", "rd": "rd", "boulevard": "blvd",
    "blvd": "blvd", "drive": "dr", "dr": "dr", "lane": "ln", "ln": "ln",
    "place": "pl", "pl": "pl", "platz": "pl", "square": "sq", "sq": "sq",
    "court": "ct", "ct": "ct", "highway": "hwy", "hwy": "hwy", "parkway": "pkwy",
    "terrace": "ter", "weg": "weg", "allee": "allee", "gasse": "g", "via": "via",
    "viale": "vle", "piazza": "p", "calle": "c", "avenida": "av", "rua": "r",
    "rue": "r", "chaussee": "ch", "north": "n", "south": "s", "east": "e", "west": "w",
}
# Keys go through the same folding as the input ("avenue" folds to "avenu").
_STREET_WORDS = {fold_text(k): v for k, v in _STREET_WORDS.items()}
# German compounds: "Hauptstraße" / "Hauptstr." -> "hauptstr".
_STREET_SUFFIX = re.compile(r"(?<=[a-z])(strasse|str)$")


def normalize_street(value: str | None) -> str | None:
    """Street line with street-type words abbreviated one canonical way."""
    if not value:
        return None
    out = []
    for token in fold_text(value).split():
        token = _STREET_SUFFIX.sub("str", token)
        out.append(_STREET_WORDS.get(token, token))
    return " ".join(out) or None


_POSTCODE_COUNTRY_PREFIX = re.compile(r"^[A-Z]{1,3}-(?=\d)")


def normalize_postcode(value: str | None) -> str | None:
    """Postcode without spaces/dashes and without a leading "D-"/"NL-" country tag."""
    if not value:
        return None
    text = anyascii(str(value)).upper().strip()
    text = _POSTCODE_COUNTRY_PREFIX.sub("", text)
    text = re.sub(r"[^A-Z0-9]", "", text)
    return text or None


@lru_cache(maxsize=1024)
def normalize_country(value: str | None) -> str | None:
    """ISO 3166 alpha-2 from an alpha-2, alpha-3 or English name; None if unknown."""
    if not value:
        return None
    text = str(value).strip()
    if len(text) == 2 and text.isalpha():
        return text.upper()
    try:
        return pycountry.countries.lookup(text).alpha_2
    except LookupError:
        return None


# --- identifiers -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TaxId:
    """A tax identifier compacted with its country prefix, and whether its check digits hold."""

    value: str | None
    valid: bool


# EU VAT uses "EL" for Greece; every other prefix is the ISO code.
_VAT_PREFIX = {"GR": "EL"}
_PREFIX_COUNTRY = {"EL": "GR"}
_EU = frozenset(cc.upper() for cc in eu_vat.MEMBER_STATES)


@lru_cache(maxsize=1024)
def _tax_module(country: str):  # noqa: ANN202 - stdnum modules are untyped
    return get_cc_module(country.lower(), "vat") or get_cc_module(country.lower(), "tin")


_NOT_ALNUM = re.compile(r"[^A-Za-z0-9]")


def normalize_tax_id(value: str | None, country: str | None = None) -> TaxId:
    """Compact a VAT/tax number and prefix it with its country.

    "DE 136 695 976", "136695976" (country DE) and "de136695976" all become
    "DE136695976". The prefix keeps numbers from different countries apart even
    when their digits coincide.
    """
    if not value:
        return TaxId(None, False)
    text = _NOT_ALNUM.sub("", anyascii(str(value))).upper()
    if not text:
        return TaxId(None, False)
    prefix = text[:2]
    if prefix.isalpha() and (prefix in _EU or prefix == "EL" or _is_country(prefix)):
        return _checked_tax_id(_PREFIX_COUNTRY.get(prefix, prefix), text[2:])
    if country:
        return _checked_tax_id(country.upper(), text)
    return TaxId(text, False)


# Keyed by the compacted number, so every spelling of one number is checked once.
@lru_cache(maxsize=262144)
def _checked_tax_id(cc: str, number: str) -> TaxId:
    module = _tax_module(cc)
    valid = False
    if module is not None:
        try:
            candidate = module.compact(number)
            candidate_with_prefix = module.compact(cc + number) if cc in _EU else candidate
            valid = bool(module.is_valid(candidate_with_prefix))
            number = re.sub(r"^[A-Z]{2}", "", candidate_with_prefix) if cc in _EU else candidate
        except (ValidationError, ValueError, TypeError):
            valid = False
    return TaxId(_VAT_PREFIX.get(cc, cc) + number, valid)


@lru_cache(maxsize=512)
def _is_country(code: str) -> bool:
    return pycountry.countries.get(alpha_2=code) is not None


_IBAN_SHAPE = re.compile(r"[A-Z]{2}[0-9]{2}[A-Z0-9]{11,30}")
_IBAN_SEPARATORS = re.compile(r"[\s\-.]+")


def normalize_iban(value: str | None) -> TaxId:
    """Compact IBAN and whether its ISO 13616 check digits hold (same shape as a tax id).

    Only the shape and the mod-97 checksum are checked, not each country's BBAN
    layout: a wrong length with a right checksum is all but impossible by mistake.
    """
    if not value:
        return TaxId(None, False)
    compact = _IBAN_SEPARATORS.sub("", str(value)).upper()
    if not compact:
        return TaxId(None, False)
    return _checked_iban(compact)


@lru_cache(maxsize=65536)
def _checked_iban(compact: str) -> TaxId:
    if not _IBAN_SHAPE.fullmatch(compact):
        return TaxId(compact, False)
    # Move the first four characters to the end, letters to 10..35, then mod 97 == 1.
    digits = "".join(str(int(ch, 36)) for ch in compact[4:] + compact[:4])
    return TaxId(compact, int(digits) % 97 == 1)


def normalize_bic(value: str | None) -> str | None:
    """BIC compacted to 11 characters ("XXX" branch = head office)."""
    if not value:
        return None
    compact = stdnum_bic.compact(str(value))
    if len(compact) == 8:
        compact += "XXX"
    return compact or None


_PHONE_SEPARATORS = re.compile(r"[\s\-./]+")


def normalize_phone(value: str | None, country: str | None = None) -> str | None:
    """E.164 ("+4930123456"), the record's country as default region; digits if unparsable."""
    if not value:
        return None
    key = _PHONE_SEPARATORS.sub("", str(value))
    if not key:
        return None
    # An international number means the same whatever the record's country.
    return _parsed_phone(key, None if key.startswith("+") else country)


# Keyed by the number without separators: "+49 30 1234", "+49-30-1234" parse once.
@lru_cache(maxsize=262144)
def _parsed_phone(key: str, country: str | None) -> str | None:
    try:
        number = phonenumbers.parse(key, country or None)
    except phonenumbers.NumberParseException:
        digits = re.sub(r"\D", "", key)
        return digits or None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


# Addresses at these providers say nothing about which company a contact works for.
FREE_MAIL_DOMAINS = frozenset({
    "gmail.com", "googlemail.com", "yahoo.com", "hotmail.com", "outlook.com", "live.com",
    "icloud.com", "aol.com", "gmx.de", "gmx.net", "web.de", "mail.ru", "yandex.ru",
    "qq.com", "163.com", "orange.fr", "free.fr", "libero.it", "t-online.de",
})


def normalize_email_domain(value: str | None) -> str | None:
    """Domain of an e-mail address; None for free-mail providers."""
    if not value or "@" not in value:
        return None
    domain = value.rsplit("@", 1)[1].strip().lower().rstrip(".")
    if domain.startswith("www."):
        domain = domain[4:]
    return None if not domain or domain in FREE_MAIL_DOMAINS else domain


def normalize_website_domain(value: str | None) -> str | None:
    """Host of a website URL without scheme, "www." or path."""
    if not value:
        return None
    host = re.sub(r"^[a-z]+://", "", str(value).strip().lower())
    host = re.split(r"[/?#:]", host, maxsplit=1)[0].rstrip(".")
    if host.startswith("www."):
        host = host[4:]
    return host or None


def normalize_date(value: str | None, formats: tuple[str, ...] = ()) -> str | None:
    """ISO date (YYYY-MM-DD) from ISO input or one of ``formats``; None if invalid."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    text = str(value).strip()
    if not text:
        return None
    for fmt in formats or ("%Y-%m-%d",):
        try:
            return datetime.strptime(text, fmt).date().isoformat()
        except ValueError:
            continue
    return None


def normalize_number(value: str | None) -> str | None:
    """Decimal number as a plain string ("1,200.50" -> "1200.5"); None if not numeric."""
    if value is None:
        return None
    text = str(value).strip().replace(",", "")
    try:
        number = float(text)
    except ValueError:
        return None
    return repr(number).removesuffix(".0") if number.is_integer() else repr(number)
