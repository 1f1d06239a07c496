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

import pycountry
from anyascii import anyascii

from mdm import identifiers
from mdm.identifiers import Checked, TaxId

__all__ = [
    "Checked",
    "CompanyName",
    "TaxId",
    "fold_text",
    "normalize_bic",
    "normalize_code",
    "normalize_company_name",
    "normalize_country",
    "normalize_date",
    "normalize_duns",
    "normalize_email_domain",
    "normalize_iban",
    "normalize_lei",
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
# need one entry. Checked against the ISO 20275 Entity Legal Forms list (GLEIF) for the
# commercial forms of each country, local names and the abbreviations given there
# (e.g. SE HB/KB, DK I/S K/S P/S IVS, FI ky/osk/abp, NO ASA/ANS/DA, PT Lda, PL sp.j./sp.k.,
# CZ v.o.s./k.s., NL VOF/CV, BE BVBA/SPRL): the list itself also holds public bodies
# and short codes that are ordinary words or surnames at the end of a name ("I", "EU",
# "OG", "DA", Swedish "Ek", Dutch "Vos" for the Czech v.o.s.), so it is not loaded whole
# and such forms are recognised only spelt out. A form that is a variant of another for
# matching (S.L.U. is a single-member S.L.; "Lda" and "Limitada" are one form) shares
# its canonical key.
_LEGAL_FORMS: dict[str, tuple[str, ...]] = {
    "gmbh & co kg": ("gmbh & co kg", "gmbh & co. kg", "gmbh und co kg", "gmbh co kg",
                     "ug (haftungsbeschränkt) & co. kg", "ug & co. kg"),
    "ag & co kg": ("ag & co. kg", "ag & co kg"),
    "gmbh": ("gmbh", "gesellschaft mit beschränkter haftung", "ges.m.b.h.", "ges mbh"),
    "ggmbh": ("ggmbh", "gemeinnützige gmbh"),
    "ag": ("ag", "aktiengesellschaft"),
    "kgaa": ("kgaa", "kommanditgesellschaft auf aktien"),
    "kg": ("kg", "kommanditgesellschaft"),
    "ohg": ("ohg", "offene handelsgesellschaft"),
    "og": ("offene gesellschaft",),
    "gbr": ("gbr", "gesellschaft bürgerlichen rechts", "gesbr"),
    "ek": ("e. k.", "e. kfm.", "eingetragener kaufmann"),
    "eg": ("eingetragene genossenschaft",),
    "partg": ("partg", "partnerschaftsgesellschaft", "partg mbb"),
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
    "sas": ("sas", "s.a.s.", "société par actions simplifiée", "sasu"),
    "sarl": ("sarl", "s.a.r.l.", "société à responsabilité limitée"),
    "snc": ("snc", "s.n.c.", "société en nom collectif", "società in nome collettivo"),
    "sa": (
        "sa", "s.a.", "société anonyme", "sociedad anónima", "sociedade anónima",
        "sociedade anonima", "spółka akcyjna", "spolka akcyjna",
    ),
    "sl": ("sl", "s.l.", "sociedad limitada", "slu", "s.l.u.",
           "sociedad limitada unipersonal", "sociedad de responsabilidad limitada",
           "slne", "s.l.n.e."),
    "sll": ("sll", "s.l.l.", "sociedad limitada laboral"),
    "scoop": ("s.coop.", "s. coop.", "scoop", "sociedad cooperativa", "soc. coop.",
              "società cooperativa"),
    "ltda": ("ltda", "limitada", "lda", "lda.", "unipessoal lda", "unipessoal limitada"),
    "bv": ("bv", "b.v.", "besloten vennootschap",
           "besloten vennootschap met beperkte aansprakelijkheid"),
    "bvba": ("bvba", "b.v.b.a."),
    "sprl": ("sprl", "s.p.r.l.", "société privée à responsabilité limitée"),
    "nv": ("nv", "n.v.", "naamloze vennootschap"),
    "vof": ("vof", "v.o.f.", "vennootschap onder firma"),
    "cv": ("c.v.", "commanditaire vennootschap"),
    "spa": ("spa", "s.p.a.", "società per azioni"),
    "srl": ("srl", "s.r.l.", "società a responsabilità limitata"),
    "srls": ("srls", "s.r.l.s.", "s.r.l. semplificata"),
    "scarl": ("scarl", "s.c.a.r.l.", "s.c.r.l."),
    "oyj": ("oyj", "julkinen osakeyhtiö", "abp", "publikt aktiebolag"),
    "oy": ("oy", "osakeyhtiö"),
    "ky": ("ky", "kommandiittiyhtiö"),
    "osk": ("osk", "osuuskunta"),
    "ab": ("ab", "aktiebolag", "aktiebolaget"),
    "hb": ("hb", "handelsbolag", "handelsbolaget"),
    "kb": ("kb", "kommanditbolag", "kommanditbolaget"),
    "as": ("as", "a/s", "aktieselskab", "aksjeselskap", "akciová společnost"),
    "asa": ("asa", "allmennaksjeselskap"),
    "ans": ("ansvarlig selskap",),
    "da": ("ansvarlig selskap med delt ansvar",),
    "aps": ("aps", "anpartsselskab"),
    "is": ("i/s", "interessentskab"),
    "ks": ("k/s", "kommanditselskab", "k.s.", "komanditní společnost"),
    "ps": ("p/s", "partnerselskab"),
    "ivs": ("ivs", "iværksætterselskab"),
    "amba": ("amba", "a.m.b.a.", "andelsselskab med begrænset ansvar"),
    "smba": ("smba", "s.m.b.a.", "selskab med begrænset ansvar"),
    "sp z oo": (
        "sp. z o.o.", "sp z oo", "sp. z.o.o.", "sp. z o. o.", "spółka z o.o.",
        "spółka z o. o.", "spółka z ograniczoną odpowiedzialnością",
    ),
    "spj": ("sp.j.", "sp. j.", "spółka jawna"),
    "spk": ("sp.k.", "sp. k.", "spółka komandytowa"),
    "ska": ("s.k.a.", "spółka komandytowo-akcyjna"),
    "sro": ("s.r.o.", "sro", "spol. s r.o.", "spol s ro", "spol. s r. o.",
            "společnost s ručením omezeným"),
    "vos": ("veřejná obchodní společnost",),
    "kft": ("kft", "kft."),
    "zrt": ("zrt", "zrt."),
    "nyrt": ("nyrt", "nyrt."),
    "bt": ("bt", "bt."),
    "doo": ("d.o.o.", "doo"),
    "ooo": ("ooo",),
    "kk": ("kk", "k.k.", "kabushiki kaisha", "kabushiki gaisha"),
}

# Abbreviation or variant -> the long word every spelling is mapped to. Long, because
# names are compared by edit similarity: a typo in "manufacturing" leaves it close to
# "manufacturing", but "anufacturing" is nothing like "mfg".
_LONG_FORMS: dict[str, tuple[str, ...]] = {
    "international": ("internacional", "internationale", "int", "intl"),
    "corporation": ("corp",),
    "manufacturing": ("mfg", "manufacturer"),
    "brothers": ("bros",),
    "industries": ("industrie", "industry", "ind"),
    "technology": ("technologies", "tech"),
    "associates": ("association", "assoc"),
    "services": ("service", "svcs", "svc"),
    "systems": ("sys",),
    "holding": ("holdings", "hldgs", "hldg"),
    "group": ("gruppe", "groupe", "grp"),
    "department": ("dept",),
    "laboratories": ("labs", "lab"),
    "and": ("und", "et"),
    "company": ("companies",),
}
_ABBREVIATIONS = {fold_text(short): fold_text(long)
                  for long, shorts in _LONG_FORMS.items() for short in shorts}
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
    while len(core) > 1 and core[-1] in {"and", "co", "company"}:
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
    "viale": "vle", "piazza": "p", "calle": "c", "cl": "c", "avenida": "ave",
    "avda": "ave", "rua": "r", "ulica": "ul", "ulice": "ul", "ul": "ul", "aleja": "al",
    "al": "al", "trida": "tr", "tr": "tr", "corso": "cso", "cso": "cso",
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


@lru_cache(maxsize=1)
def _country_names() -> dict[str, str]:
    """Folded country name in any of pycountry's locales -> alpha-2, built once.

    pycountry ships the iso-codes gettext catalogues, so "Sverige", "Suomi", "España",
    "Österreich" or "Polska" are read from there instead of a hand-typed table. A
    folded name that two locales give to different countries is ambiguous and left out.
    """
    import gettext
    import os

    english = [(c.alpha_2, [getattr(c, a, None) for a in ("name", "common_name",
                                                         "official_name")])
               for c in pycountry.countries]
    seen: dict[str, set[str]] = {}
    catalogues = [gettext.NullTranslations()]
    for lang in sorted(os.listdir(pycountry.LOCALES_DIR)):
        try:
            catalogues.append(gettext.translation("iso3166-1", pycountry.LOCALES_DIR,
                                                  languages=[lang]))
        except OSError:  # a locale without country names
            continue
    for catalogue in catalogues:
        for alpha_2, names in english:
            for name in names:
                if name:
                    folded = fold_text(catalogue.gettext(name))
                    if folded:
                        seen.setdefault(folded, set()).add(alpha_2)
    return {name: codes.pop() for name, codes in seen.items() if len(codes) == 1}


@lru_cache(maxsize=4096)
def normalize_country(value: str | None) -> str | None:
    """ISO 3166 alpha-2 from an alpha-2, alpha-3 or a name in English or any language
    pycountry translates ("Sverige", "Österreich", "Polska"); None if unknown."""
    if not value:
        return None
    text = str(value).strip()
    if len(text) == 2 and text.isalpha():
        return text.upper()
    try:
        return pycountry.countries.lookup(text).alpha_2
    except LookupError:
        return _country_names().get(fold_text(text))


# --- identifiers -------------------------------------------------------------------
# The rules live in ``mdm.identifiers`` (validation uses the same ones); matching only
# needs the canonical value and, where a checksum exists, whether it holds.


def normalize_tax_id(value: str | None, country: str | None = None) -> TaxId:
    """Canonical tax id ("DE136695976", "EL094259216", XI -> "GB...") and its check."""
    return identifiers.parse_tax_id(value, country)


def normalize_iban(value: str | None) -> Checked:
    """Compact IBAN; valid only with the country's length, BBAN format and check digits."""
    return identifiers.parse_iban(value)


def normalize_bic(value: str | None) -> str | None:
    """BIC compacted to 11 characters ("XXX" branch = head office)."""
    return identifiers.parse_bic(value).value


def normalize_lei(value: str | None) -> Checked:
    """Compact LEI and whether its ISO 17442 check digits hold."""
    return identifiers.parse_lei(value)


def normalize_duns(value: str | None) -> str | None:
    """D-U-N-S number without separators."""
    return identifiers.parse_duns(value).value


def normalize_phone(value: str | None, country: str | None = None) -> str | None:
    """E.164 ("+4930123456"), the record's country as default region; digits if unparsable."""
    return identifiers.phone_e164(value, country)


FREE_MAIL_DOMAINS = identifiers.FREE_MAIL_DOMAINS


def normalize_email_domain(value: str | None) -> str | None:
    """Domain of an e-mail address; None for free-mail providers."""
    return identifiers.email_domain(value)


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
