"""A second, independently written supplier generator with known truth.

    .venv/bin/python scripts/bench/gen_suppliers_adversarial.py --n 20000 --out records.jsonl

Written without the first generator's pools or corruption model, to test matching on
data the team did not tune to. Nine countries of Northern, Southern and Central Europe
(Nordic, Iberian, Italian, Polish, Dutch, Czech firms: trades, construction,
transport, food, engineering), and a harsher corruption model:

* names: typos anywhere including the first letter (up to three edits), abbreviated
  industry words, initials for first names, dropped tokens, acronyms of long names,
  legal forms spelt out, abbreviated or left off, case and diacritics noise,
  transliteration (ø -> oe), swapped tokens;
* streets and cities: typos, street-type abbreviations (Calle -> C/, ulica -> ul.),
  house-number formatting, exonyms (Göteborg / Gothenburg);
* identifiers with formatting noise (spaces, dots, dashes, lowercase, with or without
  the country prefix) and some invalid check digits;
* hard negatives: group companies (shared brand, sometimes the same building, website
  or switchboard, each with its own valid tax id) and unrelated firms in one business
  centre (same street, postcode and city);
* thin records: only a name and one identifier.

Tax numbers and IBANs are made valid with python-stdnum's checksum functions.
``generate(n, seed)`` yields ``{"id", "source_system", "entity", "group", "attrs"}``
like ``gen_suppliers.generate``; deterministic by seed.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import string
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from stdnum import iban as std_iban
from stdnum import luhn
from stdnum.cz import dic as cz_dic
from stdnum.dk import cvr as dk_cvr
from stdnum.es import ccc as es_ccc
from stdnum.es import cif as es_cif
from stdnum.eu import vat as eu_vat
from stdnum.fi import alv as fi_alv
from stdnum.it import iva as it_iva
from stdnum.nl import btw as nl_btw
from stdnum.pl import nip as pl_nip
from stdnum.pt import nif as pt_nif
from stdnum.se import vat as se_vat

SOURCES = ("IFS_NORDIC", "DYNAMICS_ES", "WORKDAY", "BASWARE", "JDE_LEGACY")

# --- pools ------------------------------------------------------------------------------------

SURNAMES = {
    "SE": ["Lindqvist", "Bergström", "Sjöberg", "Nyström", "Holmgren", "Åkesson", "Wikström",
           "Dahlberg", "Engström", "Lundgren", "Hedlund", "Sandberg", "Forsberg", "Ekholm"],
    "DK": ["Kjærgaard", "Østergaard", "Mikkelsen", "Rasmussen", "Thygesen", "Bech",
           "Skovgaard", "Kristoffersen", "Dalsgaard", "Vestergaard", "Frandsen", "Lauridsen"],
    "FI": ["Virtanen", "Mäkinen", "Heikkinen", "Koskinen", "Järvinen", "Lehtonen", "Salminen",
           "Laaksonen", "Tuominen", "Rantanen", "Kallio", "Hämäläinen", "Pesonen"],
    "ES": ["Fernández", "Gutiérrez", "Echeverría", "Ibáñez", "Zubizarreta", "Castellanos",
           "Villanueva", "Arriaga", "Olmedo", "Quintana", "Barrenechea", "Salcedo", "Urquijo"],
    "PT": ["Gonçalves", "Magalhães", "Figueiredo", "Sequeira", "Albuquerque", "Carvalhal",
           "Damasceno", "Brandão", "Vasconcelos", "Teixeira", "Moutinho", "Loureiro"],
    "IT": ["Bianchi", "Colombo", "Esposito", "Ferraresi", "Galbiati", "Lombardini",
           "Marchetti", "Zanetti", "Bortolotti", "Pellegrini", "Santoro", "Castiglioni"],
    "PL": ["Kowalczyk", "Wiśniewski", "Zieliński", "Szymański", "Wójcik", "Kamiński",
           "Dąbrowski", "Pawłowski", "Grabowski", "Jankowski", "Mazurek", "Krawczyk"],
    "NL": ["Van der Berg", "De Vries", "Bakker", "Visser", "Smit", "Meijer", "Mulder",
           "De Groot", "Bos", "Vos", "Hendriks", "Dekker", "Van Leeuwen", "Brouwer"],
    "CZ": ["Novák", "Svoboda", "Dvořák", "Černý", "Procházka", "Kučera", "Veselý", "Horák",
           "Němec", "Pokorný", "Marek", "Růžička"],
}
FIRST_NAMES = {
    "SE": ["Anders", "Birgitta", "Gustav", "Ingrid", "Mats"],
    "DK": ["Søren", "Mette", "Jens", "Lone", "Henrik"],
    "FI": ["Juha", "Päivi", "Mikko", "Tuula", "Kari"],
    "ES": ["Jesús", "Montserrat", "Iñaki", "Lucía", "Javier"],
    "PT": ["João", "Inês", "Rui", "Conceição", "Tiago"],
    "IT": ["Giuseppe", "Francesca", "Matteo", "Chiara", "Alessandro"],
    "PL": ["Krzysztof", "Agnieszka", "Tomasz", "Małgorzata", "Piotr"],
    "NL": ["Pieter", "Annelies", "Joost", "Marieke", "Willem"],
    "CZ": ["Jiří", "Zdeňka", "Tomáš", "Jana", "Václav"],
}
INDUSTRY = {
    "SE": ["Bygg", "Maskin", "Transport", "Elektriska", "Verkstad", "Trävaror",
           "Fastigheter", "Konsult", "Logistik", "Grafiska", "Livsmedel"],
    "DK": ["Tømrer", "Maskinfabrik", "Vognmandsforretning", "Rådgivning", "Entreprise",
           "Handel", "Elektro", "Ejendomme", "Fødevarer"],
    "FI": ["Rakennus", "Kuljetus", "Konepaja", "Sähkö", "Metalli", "Puutarha",
           "Tilintarkastus", "Kiinteistöt", "Elintarvike"],
    "ES": ["Construcciones", "Transportes", "Distribuciones", "Instalaciones", "Asesores",
           "Suministros", "Alimentación", "Ingeniería", "Montajes"],
    "PT": ["Construções", "Transportes", "Distribuição", "Engenharia", "Serviços",
           "Comércio", "Têxteis", "Metalomecânica", "Conservas"],
    "IT": ["Costruzioni", "Trasporti", "Impianti", "Alimentari", "Meccanica", "Arredamenti",
           "Forniture", "Tessile", "Consulenze"],
    "PL": ["Budownictwo", "Transport", "Instalacje", "Handel", "Usługi", "Mechanika",
           "Produkcja", "Spedycja", "Meble"],
    "NL": ["Bouw", "Installatietechniek", "Transport", "Groothandel", "Advies", "Techniek",
           "Logistiek", "Metaalbewerking", "Bloemen"],
    "CZ": ["Stavby", "Doprava", "Strojírna", "Elektro", "Obchod", "Služby", "Nábytek",
           "Tiskárna", "Potraviny"],
}
# Industry word -> the short forms clerks type.
INDUSTRY_SHORT = {
    "Construcciones": ["Constr.", "Const."], "Transportes": ["Transp.", "Tptes."],
    "Distribuciones": ["Distrib.", "Dist."], "Instalaciones": ["Instal."],
    "Ingeniería": ["Ing."], "Suministros": ["Sumin."], "Construções": ["Constr."],
    "Distribuição": ["Distrib."], "Engenharia": ["Eng."], "Serviços": ["Serv."],
    "Comércio": ["Com."], "Metalomecânica": ["Metalomec."], "Costruzioni": ["Costr."],
    "Trasporti": ["Trasp."], "Impianti": ["Imp."], "Meccanica": ["Mecc."],
    "Arredamenti": ["Arred."], "Consulenze": ["Cons."], "Budownictwo": ["Bud."],
    "Instalacje": ["Inst."], "Produkcja": ["Prod."], "Spedycja": ["Sped."],
    "Installatietechniek": ["Install.techn.", "Inst.techniek"], "Groothandel": ["Groothdl."],
    "Metaalbewerking": ["Metaalbew."], "Maskinfabrik": ["Maskinfab."],
    "Vognmandsforretning": ["Vognmand", "Vognm."], "Strojírna": ["Stroj."],
    "Fastigheter": ["Fastigh."], "Tilintarkastus": ["Tilintark."],
    "Elektriska": ["El.", "Elektr."], "Kiinteistöt": ["Kiint."],
}
REGIONS = ["Nordic", "Baltic", "Iberia", "Adriatic", "Alpine", "Euro", "Atlantic",
           "Mediterranean", "Carpathian", "Scandi", "Danube", "Pannonia", "Hansa"]
ENGLISH = ["Group", "Solutions", "Partners", "Systems", "Trading", "Supply", "Works",
           "Industries", "Holding"]
SYLLABLES = ["ka", "lo", "ri", "ve", "nor", "tal", "sen", "mar", "dra", "xi", "qu", "bel",
             "tor", "vin", "sol", "gar", "ne", "om", "ul", "pra", "zen", "ky", "fjor", "mo",
             "lux", "ar", "den", "vik", "sta", "ro", "ma", "li", "ta", "ex", "on", "is"]
# Each legal form: (spellings seen in the wild, the first being the usual one).
LEGAL_FORMS = {
    "SE": [["AB", "Aktiebolag", "A.B."], ["HB", "Handelsbolag"]],
    "DK": [["A/S", "AS", "Aktieselskab"], ["ApS", "Aps", "Anpartsselskab"]],
    "FI": [["Oy", "OY", "Osakeyhtiö"], ["Oyj", "OYJ"]],
    "ES": [["S.L.", "SL", "S.L.U.", "Sociedad Limitada"], ["S.A.", "SA", "Sociedad Anónima"]],
    "PT": [["Lda.", "Lda", "Limitada"], ["S.A.", "SA"]],
    "IT": [["S.r.l.", "Srl", "SRL"], ["S.p.A.", "SpA", "SPA"]],
    "PL": [["Sp. z o.o.", "sp. z o. o.", "Spółka z o.o."], ["S.A.", "SA", "Spółka Akcyjna"]],
    "NL": [["B.V.", "BV", "Besloten Vennootschap"], ["N.V.", "NV"]],
    "CZ": [["s.r.o.", "spol. s r.o.", "S.R.O."], ["a.s.", "A.S."]],
}
CITIES = {  # (local name, exonyms)
    "SE": [("Stockholm", []), ("Göteborg", ["Gothenburg", "Goteborg"]), ("Malmö", ["Malmo"]),
           ("Uppsala", []), ("Västerås", ["Vasteras"]), ("Örebro", []), ("Linköping", [])],
    "DK": [("København", ["Copenhagen", "Kobenhavn"]), ("Aarhus", ["Århus"]), ("Odense", []),
           ("Aalborg", ["Ålborg"]), ("Esbjerg", []), ("Randers", [])],
    "FI": [("Helsinki", ["Helsingfors"]), ("Espoo", ["Esbo"]), ("Tampere", ["Tammerfors"]),
           ("Turku", ["Åbo"]), ("Oulu", ["Uleåborg"]), ("Vantaa", ["Vanda"])],
    "ES": [("Madrid", []), ("Barcelona", []), ("Valencia", ["València"]),
           ("Sevilla", ["Seville"]), ("Zaragoza", []), ("Bilbao", ["Bilbo"]), ("Málaga", [])],
    "PT": [("Lisboa", ["Lisbon"]), ("Porto", ["Oporto"]), ("Braga", []), ("Coimbra", []),
           ("Aveiro", []), ("Faro", [])],
    "IT": [("Milano", ["Milan"]), ("Roma", ["Rome"]), ("Torino", ["Turin"]),
           ("Napoli", ["Naples"]), ("Bologna", []), ("Firenze", ["Florence"]),
           ("Brescia", []), ("Bergamo", [])],
    "PL": [("Warszawa", ["Warsaw"]), ("Kraków", ["Cracow", "Krakow"]), ("Łódź", ["Lodz"]),
           ("Wrocław", ["Wroclaw"]), ("Poznań", ["Poznan"]), ("Gdańsk", ["Gdansk"])],
    "NL": [("Amsterdam", []), ("Rotterdam", []), ("Den Haag", ["'s-Gravenhage", "The Hague"]),
           ("Utrecht", []), ("Eindhoven", []), ("Tilburg", [])],
    "CZ": [("Praha", ["Prague"]), ("Brno", []), ("Ostrava", []), ("Plzeň", ["Pilsen"]),
           ("Olomouc", []), ("Liberec", [])],
}
STREET_ROOTS = {
    "SE": ["Industri", "Hamn", "Kyrko", "Skol", "Kvarn", "Björk", "Verkstads", "Ängs"],
    "DK": ["Industri", "Havne", "Kirke", "Skole", "Mølle", "Birke", "Strand", "Eng"],
    "FI": ["Teollisuus", "Satama", "Kirkko", "Koulu", "Mylly", "Koivu", "Tehdas", "Niitty"],
    "ES": ["Mayor", "del Puerto", "de la Industria", "San Vicente", "de Goya", "Real",
           "de Alcalá", "del Carmen"],
    "PT": ["Augusta", "do Comércio", "da Liberdade", "de Santa Catarina", "dos Aliados",
           "do Carmo", "da Boavista"],
    "IT": ["Garibaldi", "Roma", "dell'Industria", "Mazzini", "Cavour", "Verdi", "dei Mille"],
    "PL": ["Marszałkowska", "Piłsudskiego", "Mickiewicza", "Przemysłowa", "Kościuszki",
           "Długa", "Słowackiego"],
    "NL": ["Industrie", "Haven", "Kerk", "School", "Molen", "Berken", "Dorps", "Stations"],
    "CZ": ["Nádražní", "Průmyslová", "Husova", "Masarykova", "Palackého", "Komenského"],
}
STREET_TYPES = {  # (full form, abbreviations, position: "suffix" glued / "before")
    "SE": [("gatan", ["g.", "gat."], "suffix"), ("vägen", ["v.", "vag."], "suffix")],
    "DK": [("vej", ["vj."], "suffix"), ("gade", ["gd."], "suffix")],
    "FI": [("katu", ["k."], "suffix"), ("tie", ["t."], "suffix")],
    "ES": [("Calle", ["C/", "C.", "Cl."], "before"), ("Avenida", ["Avda.", "Av."], "before")],
    "PT": [("Rua", ["R."], "before"), ("Avenida", ["Av.", "Avda"], "before")],
    "IT": [("Via", ["V."], "before"), ("Corso", ["C.so"], "before"),
           ("Piazza", ["P.za", "P.zza"], "before")],
    "PL": [("ulica", ["ul.", "ul"], "before"), ("aleja", ["al.", "Al."], "before")],
    "NL": [("straat", ["str."], "suffix"), ("weg", ["wg."], "suffix"),
           ("laan", ["ln."], "suffix")],
    "CZ": [("ulice", ["ul."], "before"), ("třída", ["tř.", "tr."], "before")],
}
PHONE = {  # calling code, national mobile pattern (x = random digit)
    "SE": ("46", "70xxxxxxx"), "DK": ("45", "2xxxxxxx"), "FI": ("358", "40xxxxxxx"),
    "ES": ("34", "6xxxxxxxx"), "PT": ("351", "91xxxxxxx"), "IT": ("39", "34xxxxxxxx"),
    "PL": ("48", "5xxxxxxxx"), "NL": ("31", "6xxxxxxxx"), "CZ": ("420", "6xxxxxxxx"),
}
TRUNK_ZERO = {"SE", "FI", "NL"}  # national format starts with 0
TLD = {"SE": "se", "DK": "dk", "FI": "fi", "ES": "es", "PT": "pt", "IT": "it", "PL": "pl",
       "NL": "nl", "CZ": "cz"}
COUNTRY_SPELLINGS = {
    "SE": ["SE", "Sweden", "Sverige"], "DK": ["DK", "Denmark", "Danmark"],
    "FI": ["FI", "Finland", "Suomi"], "ES": ["ES", "Spain", "España"],
    "PT": ["PT", "Portugal"], "IT": ["IT", "Italy", "Italia"], "PL": ["PL", "Poland", "Polska"],
    "NL": ["NL", "Netherlands", "Nederland"], "CZ": ["CZ", "Czech Republic", "Czechia"],
}
COUNTRIES = list(SURNAMES)
KEYBOARD = {  # QWERTY neighbours for realistic substitutions
    "q": "wa", "w": "qes", "e": "wrd", "r": "etf", "t": "ryg", "y": "tuh", "u": "yij",
    "i": "uok", "o": "ipl", "p": "ol", "a": "qsz", "s": "adw", "d": "sfe", "f": "dgr",
    "g": "fht", "h": "gjy", "j": "hku", "k": "jli", "l": "kop", "z": "xa", "x": "zcs",
    "c": "xvd", "v": "cbf", "b": "vng", "n": "bmh", "m": "nj",
}
TRANSLIT = {"ø": "oe", "Ø": "Oe", "å": "aa", "Å": "Aa", "æ": "ae", "Æ": "Ae", "ä": "ae",
            "ö": "oe", "ü": "ue", "ß": "ss", "ł": "l", "Ł": "L"}


# --- identifiers ------------------------------------------------------------------------------

def _digits(rng: random.Random, n: int) -> str:
    return "".join(rng.choice(string.digits) for _ in range(n))


def _complete(body: str, valid: Any) -> str:
    """``body`` plus the check digit that makes it valid (stdnum's own checksum); "" when
    no digit does (mod 11 leaves some bodies without one: the caller draws again)."""
    for d in string.digits:
        if valid(body + d):
            return body + d
    return ""


def vat_number(country: str, rng: random.Random) -> str:
    """A VAT number with its country prefix and valid check digits."""
    while True:
        if country == "SE":  # organisation number (Luhn) + "01"
            body = rng.choice("25") + _digits(rng, 8)
            number = "SE" + body + luhn.calc_check_digit(body) + "01"
        elif country == "DK":
            number = "DK" + _complete(rng.choice("123456789") + _digits(rng, 6),
                                      lambda n: dk_cvr.checksum(n) == 0)
        elif country == "FI":
            number = "FI" + _complete(rng.choice("123456789") + _digits(rng, 6),
                                      lambda n: fi_alv.checksum(n) == 0)
        elif country == "ES":  # CIF of a company
            body = rng.choice("ABH") + _digits(rng, 7)
            number = "ES" + body + es_cif.calc_check_digits(body)[0]
        elif country == "PT":
            body = rng.choice("5") + _digits(rng, 7)
            number = "PT" + body + pt_nif.calc_check_digit(body)
        elif country == "IT":  # partita IVA: 7 digits, office code, Luhn
            body = _digits(rng, 7) + f"{rng.randint(1, 100):03d}"
            number = "IT" + body + luhn.calc_check_digit(body)
        elif country == "PL":
            number = "PL" + _complete(rng.choice("123456789") + _digits(rng, 8),
                                      lambda n: pl_nip.checksum(n) == 0)
        elif country == "NL":
            number = "NL" + _complete(rng.choice("123456789") + _digits(rng, 7),
                                      lambda n: nl_btw.is_valid(n + "B01")) + "B01"
        else:  # CZ legal person: 8 digits, mod-11 check digit
            body = rng.choice("2468") + _digits(rng, 6)
            number = "CZ" + body + cz_dic.calc_check_digit_legal(body)
        if eu_vat.is_valid(number):
            return number


BBAN = {"SE": "n20", "DK": "n14", "FI": "n14", "PT": "n21", "IT": "a1n10c12", "PL": "n24",
        "NL": "a4n10", "CZ": "n20"}


def iban_number(country: str, rng: random.Random) -> str:
    if country == "ES":  # the Spanish account number carries its own check digits
        bank, branch, account = _digits(rng, 4), _digits(rng, 4), _digits(rng, 10)
        bban = bank + branch + es_ccc.calc_check_digits(bank + branch + "00" + account) + account
    else:
        bban = ""
        for kind, count in re.findall(r"([anc])(\d+)", BBAN[country]):
            pool = {"n": string.digits, "a": string.ascii_uppercase,
                    "c": string.digits + string.ascii_uppercase}[kind]
            bban += "".join(rng.choice(pool) for _ in range(int(count)))
    number = country + std_iban.calc_check_digits(country + "00" + bban) + bban
    if not std_iban.is_valid(number):
        return iban_number(country, rng)
    return number


def break_check_digit(value: str, rng: random.Random, valid: Any) -> str:
    """The same identifier with one digit changed so its check fails."""
    positions = [i for i, ch in enumerate(value) if ch.isdigit()]
    for _ in range(50):
        i = rng.choice(positions)
        candidate = value[:i] + str((int(value[i]) + rng.randint(1, 9)) % 10) + value[i + 1:]
        if not valid(candidate):
            return candidate
    return value


# --- entities ---------------------------------------------------------------------------------

@dataclass
class Entity:
    id: str
    group: str
    country: str
    tokens: list[str]          # name without the legal form
    kind: str                  # how the name was built (drives the corruption)
    legal_form: list[str]      # spellings
    street: tuple[str, str, str]  # (root, type, number)
    postcode: str
    city: tuple[str, list[str]]
    tax_id: str | None
    iban: str | None
    phone: str | None
    domain: str | None
    extra: dict[str, Any] = field(default_factory=dict)


def _brand(rng: random.Random) -> str:
    return "".join(rng.choice(SYLLABLES) for _ in range(rng.choice((2, 2, 3)))).capitalize()


def _name(rng: random.Random, cc: str) -> tuple[list[str], str]:
    roll = rng.random()
    if roll < 0.28:
        return [rng.choice(SURNAMES[cc]), rng.choice(INDUSTRY[cc])], "surname"
    if roll < 0.38:
        a, b = rng.sample(SURNAMES[cc], 2)
        return [a, "&", b], "partners"
    if roll < 0.58:
        return [_brand(rng), rng.choice(INDUSTRY[cc])], "brand"
    if roll < 0.72:
        return ([rng.choice(REGIONS), _brand(rng)] if rng.random() < 0.5
                else [_brand(rng)]), "brand"
    if roll < 0.84:
        return [rng.choice(REGIONS), rng.choice(INDUSTRY[cc]), rng.choice(ENGLISH)], "long"
    return [rng.choice(FIRST_NAMES[cc]), rng.choice(SURNAMES[cc]),
            rng.choice(INDUSTRY[cc])], "person"


def _postcode(rng: random.Random, cc: str) -> str:
    if cc == "SE":
        return f"{rng.randint(100, 989)} {_digits(rng, 2)}"
    if cc == "DK":
        return str(rng.randint(1000, 9990))
    if cc in ("FI", "ES"):
        return f"{rng.randint(1, 52):02d}{_digits(rng, 3)}"
    if cc == "PT":
        return f"{rng.randint(1000, 9999)}-{_digits(rng, 3)}"
    if cc == "PL":
        return f"{_digits(rng, 2)}-{_digits(rng, 3)}"
    if cc == "NL":
        letters = rng.choice("ABCDEGHJKLMNPRST") + rng.choice("ABCDEGHJKLMNPRSTVWXZ")
        return f"{rng.randint(1000, 9999)} {letters}"
    if cc == "CZ":
        return f"{rng.randint(100, 799)} {_digits(rng, 2)}"
    return _digits(rng, 5)  # IT


def _phone(rng: random.Random, cc: str) -> str:
    return "".join(rng.choice(string.digits) if ch == "x" else ch for ch in PHONE[cc][1])


Address = tuple[tuple[str, str, str], str, tuple[str, list[str]]]


def _address(rng: random.Random, cc: str) -> Address:
    number = str(rng.randint(1, 180)) + (rng.choice("ABC") if rng.random() < 0.1 else "")
    street = (rng.choice(STREET_ROOTS[cc]), rng.choice(STREET_TYPES[cc])[0], number)
    return street, _postcode(rng, cc), rng.choice(CITIES[cc])


class _World:
    """Entities, with group families and business centres, built up front."""

    def __init__(self, rng: random.Random, n_entities: int, used: set[str]) -> None:
        self.rng = rng
        self.entities: list[Entity] = []
        self.used = used  # tax ids and phones already given out: one owner each
        # A few business centres per country: many unrelated firms, one address.
        self.centres = {cc: [_address(rng, cc) for _ in range(max(1, n_entities // 400))]
                        for cc in COUNTRIES}
        while len(self.entities) < n_entities:
            if rng.random() < 0.12:
                self._family()
            else:
                self._single()

    def _unique(self, make: Any) -> str:
        while True:
            value = make()
            if value not in self.used:
                self.used.add(value)
                return str(value)

    def _tax(self, cc: str) -> str:
        return self._unique(lambda: vat_number(cc, self.rng))

    def _phone(self, cc: str) -> str:
        return self._unique(lambda: _phone(self.rng, cc))

    def _entity(self, cc: str, tokens: list[str], kind: str, group: str | None,
                address: tuple[Any, ...] | None = None, domain: str | None = None,
                phone: str | None = None) -> Entity:
        rng = self.rng
        eid = f"E{len(self.entities):07d}"
        if address is None:
            address = (rng.choice(self.centres[cc]) if rng.random() < 0.06
                       else _address(rng, cc))
        street, postcode, city = address
        if domain is None and rng.random() < 0.7:
            slug = re.sub(r"[^a-z0-9]", "", _ascii(" ".join(tokens)).lower())[:18]
            domain = f"{slug}{rng.randint(1, 99) if rng.random() < 0.3 else ''}.{TLD[cc]}"
        e = Entity(eid, group or eid, cc, tokens, kind, rng.choice(LEGAL_FORMS[cc]), street,
                   postcode, city,
                   self._tax(cc) if rng.random() < 0.9 else None,
                   iban_number(cc, rng) if rng.random() < 0.7 else None,
                   phone or (self._phone(cc) if rng.random() < 0.8 else None), domain)
        self.entities.append(e)
        return e

    def _single(self) -> None:
        cc = self.rng.choice(COUNTRIES)
        tokens, kind = _name(self.rng, cc)
        self._entity(cc, tokens, kind, None)

    def _family(self) -> None:
        """Group companies: one brand, 2-4 legal entities, each with its own tax id."""
        rng = self.rng
        home = rng.choice(COUNTRIES)
        brand = _brand(rng)
        group = f"G{len(self.entities):07d}"
        site = f"{brand.lower()}-group.com" if rng.random() < 0.5 else None
        hq = _address(rng, home)
        switchboard = self._phone(home) if rng.random() < 0.15 else None
        for i in range(rng.randint(2, 4)):
            cc = home if rng.random() < 0.6 else rng.choice(COUNTRIES)
            if i == 0:
                tokens = [brand, "Holding"] if rng.random() < 0.5 else [brand, "Group"]
            else:
                tokens = [brand, rng.choice(INDUSTRY[cc])]
                if rng.random() < 0.3:
                    tokens.append(rng.choice(REGIONS))
            same_building = cc == home and rng.random() < 0.5
            self._entity(cc, tokens, "family", group, address=hq if same_building else None,
                         domain=site, phone=switchboard if cc == home else None)


# --- corruption -------------------------------------------------------------------------------

def _ascii(text: str) -> str:
    text = "".join(TRANSLIT.get(ch, ch) for ch in text)
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()


def typo(text: str, rng: random.Random, edits: int) -> str:
    """``edits`` random keyboard edits anywhere in ``text`` (first letter included)."""
    chars = list(text)
    for _ in range(edits):
        letters = [i for i, ch in enumerate(chars) if ch.isalpha()]
        if not letters:
            break
        i = rng.choice(letters)
        op = rng.random()
        ch = chars[i].lower()
        if op < 0.35:      # neighbouring key
            sub = rng.choice(KEYBOARD.get(ch, string.ascii_lowercase))
            chars[i] = sub.upper() if chars[i].isupper() else sub
        elif op < 0.6:     # dropped letter
            del chars[i]
        elif op < 0.8:     # extra letter
            chars.insert(i, rng.choice(KEYBOARD.get(ch, string.ascii_lowercase)))
        elif i + 1 < len(chars) and chars[i + 1].isalpha():  # transposition
            chars[i], chars[i + 1] = chars[i + 1], chars[i]
        else:              # doubled letter
            chars.insert(i, chars[i])
    return "".join(chars)


def _edits(rng: random.Random, rates: tuple[float, float, float]) -> int:
    roll = rng.random()
    if roll < rates[2]:
        return 3
    if roll < rates[1]:
        return 2
    return 1 if roll < rates[0] else 0


def corrupt_name(e: Entity, rng: random.Random) -> str:
    tokens = list(e.tokens)
    if e.kind == "person" and rng.random() < 0.6:  # initials, or the first name dropped
        tokens[0] = tokens[0][0] + "." if rng.random() < 0.7 else ""
    if len(tokens) >= 3 and rng.random() < 0.03:  # acronym of a long name
        tokens = ["".join(t[0] for t in tokens if t and t[0].isalpha()).upper()]
    for i, t in enumerate(tokens):
        if t in INDUSTRY_SHORT and rng.random() < 0.25:
            tokens[i] = rng.choice(INDUSTRY_SHORT[t])
    words = [t for t in tokens if t]
    if len(words) >= 3 and rng.random() < 0.12:  # a dropped token (never the first)
        del words[rng.randrange(1, len(words))]
    if len(words) == 2 and words[1] in ENGLISH and rng.random() < 0.3:
        words = words[:1]
    if len(words) >= 2 and rng.random() < 0.05:
        words[0], words[1] = words[1], words[0]
    text = " ".join(words)
    edits = _edits(rng, (0.32, 0.12, 0.03))
    text = typo(text, rng, edits)
    roll = rng.random()
    if roll < 0.55:
        text = f"{text} {e.legal_form[0]}"
    elif roll < 0.8:
        text = f"{text} {rng.choice(e.legal_form)}"
    # else: no legal form at all
    roll = rng.random()
    if roll < 0.25:
        text = text.upper()
    elif roll < 0.32:
        text = text.lower()
    if rng.random() < 0.3:
        text = _ascii(text)
    return text


def corrupt_street(e: Entity, rng: random.Random) -> str:
    root, kind, number = e.street
    types = {t[0]: t for t in STREET_TYPES[e.country]}
    full, shorts, where = types[kind]
    written = rng.choice(shorts) if rng.random() < 0.35 else full
    if where == "suffix":
        street = f"{root}{written}" if not written.endswith(".") else f"{root}{written}"
    else:
        street = f"{written} {root}"
    if rng.random() < 0.2:
        number = number.replace("A", " a").replace("B", " b").replace("C", " c")
    text = (f"{street}, {number}" if rng.random() < 0.3 else f"{street} {number}"
            ) if rng.random() > 0.05 else street
    text = typo(text, rng, _edits(rng, (0.22, 0.07, 0.02)))
    if rng.random() < 0.25:
        text = _ascii(text)
    return text.upper() if rng.random() < 0.15 else text


def corrupt_city(e: Entity, rng: random.Random) -> str:
    local, others = e.city
    text = rng.choice(others) if others and rng.random() < 0.25 else local
    text = typo(text, rng, _edits(rng, (0.15, 0.04, 0.0)))
    return text.upper() if rng.random() < 0.2 else text


def noisy_tax(value: str, rng: random.Random) -> str:
    body = value[2:]
    if rng.random() < 0.35:
        value = body  # without the country prefix
    roll = rng.random()
    if roll < 0.2:
        value = " ".join(value[i:i + 3] for i in range(0, len(value), 3))
    elif roll < 0.3:
        value = "-".join(value[i:i + 4] for i in range(0, len(value), 4))
    elif roll < 0.4:
        value = ".".join(value[i:i + 3] for i in range(0, len(value), 3))
    return value.lower() if rng.random() < 0.1 else value


def noisy_iban(value: str, rng: random.Random) -> str:
    if rng.random() < 0.5:
        value = " ".join(value[i:i + 4] for i in range(0, len(value), 4))
    return value.lower() if rng.random() < 0.1 else value


def noisy_phone(national: str, cc: str, rng: random.Random) -> str:
    code = PHONE[cc][0]
    roll = rng.random()
    if roll < 0.35:
        return f"+{code} {national[:2]} {national[2:5]} {national[5:]}"
    if roll < 0.55:
        return f"00{code}{national}"
    if roll < 0.8:
        trunk = "0" if cc in TRUNK_ZERO else ""
        return f"{trunk}{national[:2]}-{national[2:]}"
    return f"+{code}{national}"


def observe(e: Entity, rng: random.Random) -> dict[str, Any]:
    """One source system's record of ``e``."""
    attrs: dict[str, Any] = {"name": corrupt_name(e, rng),
                             "country": rng.choice(COUNTRY_SPELLINGS[e.country])}
    if rng.random() < 0.07:  # thin record: a name and one identifier
        choices = [k for k in ("tax_id", "iban", "phone") if getattr(e, k)]
        if choices:
            pick = rng.choice(choices)
            attrs[pick] = {"tax_id": lambda: noisy_tax(e.tax_id or "", rng),
                           "iban": lambda: noisy_iban(e.iban or "", rng),
                           "phone": lambda: noisy_phone(e.phone or "", e.country, rng)}[pick]()
            return attrs
    if rng.random() > 0.08:
        attrs["street"] = corrupt_street(e, rng)
    if rng.random() > 0.08:
        attrs["postal_code"] = (e.postcode.replace(" ", "").replace("-", "")
                                if rng.random() < 0.2 else e.postcode)
    if rng.random() > 0.04:
        attrs["city"] = corrupt_city(e, rng)
    if e.tax_id and rng.random() < 0.75:
        tax = e.tax_id
        if rng.random() < 0.03:
            module = {"SE": se_vat, "DK": dk_cvr, "FI": fi_alv, "ES": es_cif, "PT": pt_nif,
                      "IT": it_iva, "PL": pl_nip, "NL": nl_btw, "CZ": cz_dic}[e.country]
            tax = break_check_digit(tax, rng, module.is_valid)
        attrs["tax_id"] = noisy_tax(tax, rng)
    if e.iban and rng.random() < 0.5:
        attrs["iban"] = noisy_iban(e.iban, rng)
    if e.phone and rng.random() < 0.65:
        attrs["phone"] = noisy_phone(e.phone, e.country, rng)
    if e.domain and rng.random() < 0.5:
        attrs["website"] = rng.choice((f"www.{e.domain}", f"https://{e.domain}/",
                                       f"http://www.{e.domain}", e.domain))
    if e.domain and rng.random() < 0.3:
        attrs["email"] = f"{rng.choice(('info', 'ap', 'invoices', 'sales'))}@{e.domain}"
    return attrs


def _cluster_size(rng: random.Random) -> int:
    roll = rng.random()
    for size, upto in ((1, 0.38), (2, 0.68), (3, 0.86), (4, 0.95), (5, 0.98)):
        if roll < upto:
            return size
    return rng.randint(6, 8)


def generate(n: int, seed: int = 11) -> Iterator[dict[str, Any]]:
    """About ``n`` records (exactly ``n``): several per entity, from several systems."""
    rng = random.Random(seed)
    used: set[str] = set()
    world = _World(rng, max(1, int(n / 2.2)), used)
    counters = dict.fromkeys(SOURCES, 0)
    produced = 0
    while produced < n:
        for e in world.entities:
            if produced >= n:
                return
            size = _cluster_size(rng)
            for _ in range(size):
                if produced >= n:
                    return
                source = rng.choice(SOURCES)
                counters[source] += 1
                yield {"id": f"{source}/{counters[source]:07d}", "source_system": source,
                       "entity": e.id, "group": e.group, "attrs": observe(e, rng)}
                produced += 1
        # More records wanted than the entities gave: a second round of new entities.
        world = _World(rng, max(1, int((n - produced) / 2.2)), used)
        for e in world.entities:
            e.id = f"{e.id}-{produced}"
            e.group = e.id if e.group.startswith("E") else f"{e.group}-{produced}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--out", required=True, help="JSONL file to write")
    args = parser.parse_args(argv)
    with open(args.out, "w", encoding="utf-8") as out:
        for r in generate(args.n, args.seed):
            out.write(json.dumps(r, ensure_ascii=False) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
