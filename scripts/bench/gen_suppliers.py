"""Generate multi-source supplier master data with known truth.

Several ERP/procurement systems hold overlapping copies of the same legal entities,
each with its own habits: legal-form spellings, transliteration, typos, missing or
re-formatted tax ids, address abbreviations, phone formats, duplicates inside one
system. Brands are shared by group companies in several countries (and by siblings in
one country): different legal entities with valid, different tax ids, similar names
and a shared website. Tax ids carry real check digits (python-stdnum).

    .venv/bin/python scripts/bench/gen_suppliers.py --n 10000 --out suppliers.jsonl

Importable from the other scripts in this folder: ``generate(n, seed)``.
"""

from __future__ import annotations

import argparse
import json
import random
import string
import sys
from collections.abc import Iterator
from dataclasses import dataclass

from stdnum import luhn
from stdnum.at import uid as at_uid
from stdnum.dk import cvr as dk_cvr
from stdnum.es import cif as es_cif
from stdnum.eu import vat as eu_vat
from stdnum.fi import alv as fi_alv
from stdnum.gb import vat as gb_vat
from stdnum.iban import calc_check_digits as iban_check_digits
from stdnum.iso7064 import mod_11_10
from stdnum.nl import btw as nl_btw
from stdnum.pl import nip as pl_nip

SOURCES = ("SAP_DE", "ORACLE_EU", "COUPA", "LEGACY_AP")


def _digits(rng: random.Random, n: int) -> str:
    return "".join(rng.choice(string.digits) for _ in range(n))


def _last_digit(body: str, ok) -> str | None:  # noqa: ANN001 - predicate
    for d in string.digits:
        if ok(body + d):
            return body + d
    return None


def _vat_number(country: str, rng: random.Random) -> str:
    """A tax number (without prefix) whose check digits are valid for ``country``."""
    while True:
        if country == "DE":
            body = rng.choice("123456789") + _digits(rng, 7)
            number = body + mod_11_10.calc_check_digit(body)
        elif country == "FR":
            siren = _digits(rng, 8)
            siren += luhn.calc_check_digit(siren)
            number = f"{int(siren + '12') % 97:02d}{siren}"
        elif country == "IT":
            body = _digits(rng, 7) + "001"
            number = body + luhn.calc_check_digit(body)
        elif country == "AT":
            body = _digits(rng, 7)
            number = "U" + body + at_uid.calc_check_digit("U" + body)
        elif country == "ES":
            body = "B" + _digits(rng, 7)
            number = body + es_cif.calc_check_digits(body + "0")[0]
        elif country == "PL":
            number = _last_digit(_digits(rng, 9), lambda x: pl_nip.checksum(x) == 0) or ""
        elif country == "DK":
            number = _last_digit(rng.choice("123456789") + _digits(rng, 6),
                                 lambda x: dk_cvr.checksum(x) == 0) or ""
        elif country == "FI":
            number = _last_digit(_digits(rng, 7), lambda x: fi_alv.checksum(x) == 0) or ""
        elif country == "NL":
            base = _last_digit(_digits(rng, 8), lambda x: nl_btw.is_valid(x + "B01"))
            number = (base + "B01") if base else ""
        elif country == "GB":
            body = _digits(rng, 7)
            number = next((body + f"{k:02d}" for k in range(100)
                           if gb_vat.checksum(body + f"{k:02d}") in (0, 42, 55)), "")
        else:  # pragma: no cover - countries are fixed below
            raise ValueError(country)
        if (country, number) in _ISSUED:
            continue  # a tax office never issues one number twice
        if number and eu_vat.is_valid(_VAT_PREFIX.get(country, country) + number) or (
            country == "GB" and number and gb_vat.is_valid(number)
        ):
            _ISSUED.add((country, number))
            return number


_VAT_PREFIX = {"GR": "EL"}
_ISSUED: set[tuple[str, str]] = set()

COUNTRIES = {
    # country: (legal forms as (canonical spelling, variants), phone prefix, cities)
    "DE": ((("GmbH", "Gesellschaft mit beschränkter Haftung", "G.m.b.H."),
            ("AG", "Aktiengesellschaft"), ("GmbH & Co. KG", "GmbH & Co KG")),
           "49", ("Berlin", "München", "Köln", "Düsseldorf", "Nürnberg", "Hamburg")),
    "AT": ((("GmbH", "Ges.m.b.H.", "Gesellschaft mit beschränkter Haftung"),
            ("AG", "Aktiengesellschaft")),
           "43", ("Wien", "Graz", "Linz", "Salzburg")),
    "FR": ((("SAS", "S.A.S.", "Société par actions simplifiée"),
            ("SA", "S.A.", "Société Anonyme"), ("SARL", "S.A.R.L.")),
           "33", ("Paris", "Lyon", "Marseille", "Toulouse", "Lille")),
    "GB": ((("Ltd", "Limited", "Ltd."), ("PLC", "plc", "Public Limited Company")),
           "44", ("London", "Manchester", "Birmingham", "Leeds")),
    "NL": ((("B.V.", "BV", "Besloten Vennootschap"), ("N.V.", "NV")),
           "31", ("Amsterdam", "Rotterdam", "Utrecht", "Eindhoven")),
    "IT": ((("S.r.l.", "SRL", "Srl"), ("S.p.A.", "SpA", "SPA")),
           "39", ("Milano", "Roma", "Torino", "Bologna")),
    "ES": ((("S.L.", "SL", "Sociedad Limitada"), ("S.A.", "SA", "Sociedad Anónima")),
           "34", ("Madrid", "Barcelona", "Valencia", "Sevilla")),
    "PL": ((("Sp. z o.o.", "sp. z o.o.", "Sp z oo"), ("S.A.", "SA")),
           "48", ("Warszawa", "Kraków", "Łódź", "Wrocław", "Gdańsk")),
    "DK": ((("A/S", "AS", "Aktieselskab"), ("ApS", "APS")),
           "45", ("København", "Aarhus", "Odense")),
    "FI": ((("Oy", "OY", "Osakeyhtiö"), ("Oyj", "OYJ")),
           "358", ("Helsinki", "Espoo", "Tampere")),
}

STREETS = {
    "DE": ("{w}straße", "{w}str.", "{w}strasse", "{w}weg"),
    "AT": ("{w}straße", "{w}gasse"),
    "GB": ("{w} Street", "{w} Road", "{w} Avenue"),
    "FR": ("Rue {w}", "Avenue {w}", "Boulevard {w}"),
    "NL": ("{w}straat", "{w}weg"),
    "IT": ("Via {w}", "Viale {w}", "Piazza {w}"),
    "ES": ("Calle {w}", "Avenida {w}"),
    "PL": ("ul. {w}", "Aleja {w}"),
    "DK": ("{w}vej", "{w}gade"),
    "FI": ("{w}katu", "{w}tie"),
}
STREET_WORDS = ("Haupt", "Bahnhof", "Linden", "Garten", "Schiller", "Goethe", "Kirch",
                "Mühlen", "Mozart", "Market", "Church", "Victoria", "Park", "Station",
                "Oak", "Mill", "Nelson", "Jaurès", "Pasteur", "Garibaldi", "Verdi",
                "Mayor", "Kościuszki", "Nørre", "Øster", "Aleksanterin", "Tehtaan")

BRAND_WORDS = ("Acme", "Global", "Nord", "Alpha", "Vector", "Union", "Delta", "Atlas",
               "Müller", "Schröder", "Bäcker", "Kühne", "Sørensen", "Łukasz", "Nova",
               "Euro", "Trans", "Inter", "Meridian", "Summit", "Pioneer", "Orion",
               "Falcon", "Zenith", "Helix", "Quantum", "Polar", "Aurora", "Crown",
               "Royal", "Metro", "Prime", "Vertex", "Nexus", "Apex", "Blue", "Green",
               "Silver", "Golden", "Iron", "Stone", "River", "Lake", "Forest", "Sun")
SURNAMES = ("Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker",
            "Hoffmann", "Dubois", "Martin", "Bernard", "Rossi", "Russo", "Ferrari",
            "García", "Martínez", "Kowalski", "Nowak", "Jensen", "Nielsen", "Virtanen",
            "Smith", "Jones", "Taylor", "de Vries", "Jansen", "Öztürk", "Łęcki", "Große")
INDUSTRY = ("Logistics", "Logistik", "Services", "Technologies", "Industries", "Trading",
            "Consulting", "Engineering", "Systems", "Solutions", "Manufacturing",
            "Holding", "International", "Components", "Chemicals", "Foods", "Energy",
            "Elektro", "Maschinenbau", "Bau", "Transport", "Software", "Medical")

ABBREVIATE = {"International": "Intl", "Technologies": "Tech", "Manufacturing": "Mfg",
              "Services": "Svcs", "Industries": "Ind", "Engineering": "Engineering"}
UMLAUT_DIGRAPH = {"ä": "ae", "ö": "oe", "ü": "ue", "Ä": "Ae", "Ö": "Oe", "Ü": "Ue",
                  "ß": "ss", "ø": "oe", "Ø": "Oe", "å": "aa"}


@dataclass
class Entity:
    id: str
    group: str
    country: str
    name: str          # without legal form
    legal_form: tuple[str, ...]
    vat: str           # national number without prefix, valid
    street: str
    house: str
    postcode: str
    city: str
    phone: str         # national significant number
    domain: str
    iban: str
    duns: str


def _postcode(country: str, rng: random.Random) -> str:
    if country == "GB":
        return (rng.choice(("SW", "EC", "M", "B", "LS")) + str(rng.randint(1, 20)) + " "
                + str(rng.randint(1, 9)) + rng.choice("ABDEFGHJLNPQRSTUWXYZ") * 2)
    if country == "NL":
        return f"{rng.randint(1000, 9999)} {rng.choice('ABCDEFGH')}{rng.choice('KLMNPRST')}"
    if country == "PL":
        return f"{rng.randint(10, 99)}-{rng.randint(100, 999)}"
    digits = {"AT": 4, "DK": 4}.get(country, 5)
    return _digits(rng, digits)


def _iban(country: str, rng: random.Random) -> str:
    lengths = {"DE": 18, "AT": 16, "FR": 23, "GB": 18, "NL": 14, "IT": 23, "ES": 20,
               "PL": 24, "DK": 14, "FI": 14}
    body = _digits(rng, lengths[country])
    if country == "GB":
        body = "NWBK" + body[4:]
    if country == "NL":
        body = "ABNA" + body[4:]
    if country == "IT":
        body = "X" + body[1:]
    return country + iban_check_digits(country + "00" + body) + body


class _Names:
    """Company-name factory with deliberate collisions (common words, surnames)."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng

    def base(self) -> str:
        r = self.rng
        kind = r.random()
        if kind < 0.35:
            return f"{r.choice(BRAND_WORDS)} {r.choice(INDUSTRY)}"
        if kind < 0.6:
            return f"{r.choice(SURNAMES)} {r.choice(INDUSTRY)}"
        if kind < 0.8:
            return f"{r.choice(BRAND_WORDS)}{r.choice(BRAND_WORDS).lower()} {r.choice(INDUSTRY)}"
        if kind < 0.9:
            return f"{r.choice(SURNAMES)} & {r.choice(SURNAMES)}"
        return (f"{r.choice(BRAND_WORDS)} {r.choice(SURNAMES)} "
                f"{r.choice(INDUSTRY)} {r.choice(INDUSTRY)}")


class _Domains:
    """Web domains, unique per organisation as on the real internet: a second
    "Metro Manufacturing" gets metromanufacturing2.com, not the first one's domain."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.used: set[str] = set()

    def new(self, name: str, tld: str, numbered: bool = True) -> str:
        slug = "".join(ch for ch in name.lower() if ch.isalnum())[:18] or "company"
        domain = f"{slug}{self.rng.randint(1, 999)}.{tld}" if numbered else f"{slug}.{tld}"
        while domain in self.used:
            domain = f"{slug}{self.rng.randint(1, 99_999)}.{tld}"
        self.used.add(domain)
        return domain


def _make_entity(eid: str, group: str, country: str, name: str, rng: random.Random,
                 domain: str) -> Entity:
    forms, _, cities = COUNTRIES[country]
    word = rng.choice(STREET_WORDS)
    return Entity(
        id=eid, group=group, country=country, name=name,
        legal_form=rng.choice(forms), vat=_vat_number(country, rng),
        street=rng.choice(STREETS[country]).format(w=word), house=str(rng.randint(1, 250)),
        postcode=_postcode(country, rng), city=rng.choice(cities),
        phone=rng.choice("23456789") + _digits(rng, rng.randint(7, 9)),
        domain=domain,
        iban=_iban(country, rng), duns=_digits(rng, 9),
    )


def _typo(text: str, rng: random.Random) -> str:
    if len(text) < 4:
        return text
    i = rng.randrange(1, len(text) - 1)
    op = rng.random()
    if op < 0.3:
        return text[:i] + text[i + 1:]
    if op < 0.55:
        return text[:i] + text[i + 1] + text[i] + text[i + 2:]
    if op < 0.8:
        return text[:i] + rng.choice(string.ascii_lowercase) + text[i + 1:]
    return text[:i] + rng.choice(string.ascii_lowercase) + text[i:]


def _transliterate(text: str, rng: random.Random) -> str:
    mode = rng.random()
    if mode < 0.5:
        return "".join(UMLAUT_DIGRAPH.get(ch, ch) for ch in text)
    from anyascii import anyascii

    return anyascii(text)


def _render(e: Entity, source: str, rng: random.Random) -> dict[str, str | None]:
    """One system's copy of an entity, with that system's noise."""
    name = e.name
    if rng.random() < 0.3:
        name = " ".join(ABBREVIATE.get(w, w) for w in name.split())
    if rng.random() < 0.25:
        name = _transliterate(name, rng)
    if rng.random() < 0.15:
        name = name.replace("&", "and") if "&" in name else name
    if rng.random() < 0.15:
        name = _typo(name, rng)
    form = rng.choice(e.legal_form) if rng.random() < 0.9 else None
    full = f"{name} {form}" if form else name
    case = rng.random()
    if case < 0.2:
        full = full.upper()
    elif case < 0.3:
        full = full.lower()

    street = f"{e.street} {e.house}"
    if e.country in ("GB", "FR") and rng.random() < 0.5:
        street = f"{e.house} {e.street}" if e.country == "GB" else f"{e.house}, {e.street}"
    if rng.random() < 0.3:
        street = (street.replace("straße", "str.").replace("Street", "St")
                  .replace("Road", "Rd").replace("Avenue", "Ave"))
    if rng.random() < 0.15:
        street = _transliterate(street, rng)
    if rng.random() < 0.08:
        street = _typo(street, rng)
    if rng.random() < 0.07:
        street = None

    postcode: str | None = e.postcode
    if rng.random() < 0.1 and e.country in ("DE", "AT", "FR", "IT"):
        postcode = {"DE": "D-", "AT": "A-", "FR": "F-", "IT": "I-"}[e.country] + e.postcode
    if rng.random() < 0.05:
        postcode = None

    prefix = _VAT_PREFIX.get(e.country, e.country)
    tax: str | None
    roll = rng.random()
    if roll < 0.3:
        tax = None
    elif roll < 0.5:
        tax = e.vat  # national number without country prefix
    elif roll < 0.65:
        tax = f"{prefix} {' '.join(e.vat[i:i + 3] for i in range(0, len(e.vat), 3))}"
    elif roll < 0.68:
        tax = prefix + _typo(e.vat, rng)  # keyed in wrong: fails its checksum (mostly)
    else:
        tax = prefix + e.vat
    cc = COUNTRIES[e.country][1]
    phone: str | None
    roll = rng.random()
    if roll < 0.25:
        phone = None
    elif roll < 0.5:
        phone = f"+{cc} {e.phone[:3]} {e.phone[3:]}"
    elif roll < 0.7:
        phone = f"0{e.phone}" if e.country not in ("IT",) else e.phone
    elif roll < 0.85:
        phone = f"00{cc}-{e.phone}"
    else:
        phone = f"+{cc}{e.phone}"
    email = None if rng.random() < 0.4 else f"{rng.choice(('info', 'ap', 'sales'))}@{e.domain}"
    website = None if rng.random() < 0.5 else rng.choice(
        (f"www.{e.domain}", f"https://{e.domain}/", f"http://www.{e.domain}"))
    iban = None
    if rng.random() < 0.45:
        iban = " ".join(e.iban[i:i + 4] for i in range(0, len(e.iban), 4))
    city = e.city if rng.random() < 0.8 else _transliterate(e.city, rng).upper()
    return {
        "name": full, "street": street, "postal_code": postcode, "city": city,
        "country": e.country if rng.random() < 0.97 else
        {"DE": "Germany", "FR": "France", "GB": "GBR"}.get(e.country, e.country),
        "tax_id": tax, "phone": phone, "email": email, "website": website, "iban": iban,
        "bic": None, "currency": "GBP" if e.country == "GB" else
        {"PL": "PLN", "DK": "DKK"}.get(e.country, "EUR"),
        "payment_terms": rng.choice(("NET30", "NET60", "30 days")),
        "duns": e.duns if rng.random() < 0.2 else None,
    }


@dataclass
class Generated:
    records: list[dict[str, object]]   # {"id", "source_system", "attrs", "entity", "group"}
    entity_groups: dict[str, str]


def entities(n_entities: int, rng: random.Random) -> Iterator[Entity]:
    names = _Names(rng)
    domains = _Domains(rng)
    countries = list(COUNTRIES)
    made = 0
    g = 0
    while made < n_entities:
        g += 1
        group = f"G{g}"
        base = names.base()
        roll = rng.random()
        if roll < 0.12:
            # a brand present in several countries: same name, shared website
            domain = domains.new(base, "com", numbered=False)
            for country in rng.sample(countries, rng.randint(2, 4)):
                yield _make_entity(f"E{made}", group, country, base, rng, domain)
                made += 1
        elif roll < 0.18:
            # siblings in one country: brand + different activity, shared website
            country = rng.choice(countries)
            brand = base.split()[0]
            domain = domains.new(f"{brand}-group", "com", numbered=False)
            for activity in rng.sample(INDUSTRY, rng.randint(2, 3)):
                yield _make_entity(f"E{made}", group, country, f"{brand} {activity}",
                                   rng, domain)
                made += 1
        else:
            country = rng.choice(countries)
            yield _make_entity(f"E{made}", group, country, base, rng,
                               domains.new(base, country.lower()))
            made += 1


def generate(n_records: int, seed: int = 7) -> Iterator[dict[str, object]]:
    """Yield about ``n_records`` records: {"id", "source_system", "attrs", "entity", "group"}."""
    rng = random.Random(seed)
    _ISSUED.clear()
    emitted = 0
    # ~1.9 records per entity on average (systems overlap, some duplicates inside one)
    for entity in entities(max(1, int(n_records / 1.9)), rng):
        systems = [s for s in SOURCES if rng.random() < 0.5] or [rng.choice(SOURCES)]
        for system in systems:
            copies = 2 if rng.random() < 0.08 else 1
            for _ in range(copies):
                if emitted >= n_records:
                    return
                yield {"id": f"{system}-{emitted}", "source_system": system,
                       "attrs": _render(entity, system, rng), "entity": entity.id,
                       "group": entity.group}
                emitted += 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=10_000, help="number of records")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", default="-", help="JSONL file (default: stdout)")
    args = parser.parse_args(argv)
    out = sys.stdout if args.out == "-" else open(args.out, "w", encoding="utf-8")  # noqa: SIM115
    try:
        for rec in generate(args.n, args.seed):
            out.write(json.dumps(rec, ensure_ascii=False) + "\n")
    finally:
        if out is not sys.stdout:
            out.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
