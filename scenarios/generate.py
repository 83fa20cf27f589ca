"""Write the example delivery days in Andorra: ``scenarios/*.json``.

    python scenarios/generate.py              # rewrite all five files
    python scenarios/generate.py --only tutorial --out-dir /tmp/x

Standard library only and deterministic: every scenario draws from its own
``random.Random(seed)``, so running the script again rewrites byte-identical files.
The format is the one described in ``scenarios/README.md``.

Andorra was chosen because a real OpenStreetMap extract of it exists for road travel
times later. Customers are sampled around its inhabited places with population-like
weights and a small jitter (150-400 m), so that points stay in the valleys. Travel
is great-circle distance x 1.4 (mountain roads) at 28 km/h: the country is about
25 km across, so even Santa Coloma - Pas de la Casa is a 65-minute drive.

The files:

- ``tutorial.json``: one depot, two vans, twelve hand-written orders.
- ``andorra_weekday.json``: an ordinary Tuesday, 2 depots, 8 vans, 120 orders.
- ``andorra_peak.json``: the Tuesday before Christmas, 10 vans (2 partner vans),
  150 orders, more returns, VIP orders and optional return pickups.
- ``andorra_overbooked.json``: 3 vans for 90 tightly booked orders, three of which
  no vehicle can ever serve; the plan must list unplanned orders, not fail.
- ``andorra_delivery_day.json``: every feature at once. 120 orders from 2 depots in
  three tiers (VIP hard slots with priority 2; standard 20 min and economy 60 min
  late at a cost), 22 returns (8 pickup-only), 6 shop-to-customer transfers (4 with
  a maximum ride), 10 bulky orders vans only, fragile / cold-chain /
  cash-on-delivery skills, and a mixed fleet (6 own vans, 2 cargo bikes at 15 km/h,
  2 dear partner vans) where every driver takes 30 minutes for lunch in
  12:00-13:30 and some vehicles have stop, duration or distance limits.
  ``delivery_day()`` builds variants of it (``benchmarks/empty_running.py``).
"""

from __future__ import annotations

import argparse
import json
import math
import random
from pathlib import Path
from typing import Any, NamedTuple

QUANTITIES = ["kg", "parcels"]
TRAVEL = {"provider": "haversine", "detour_factor": 1.4, "speeds_kmh": {"van": 28}}
EARTH_RADIUS_M = 6_371_000.0
JSON_WIDTH = 92

Json = dict[str, Any]
Slot = tuple[str, str]


class Town(NamedTuple):
    """An inhabited place customers are sampled around."""

    name: str
    lat: float
    lon: float
    weight: float  # roughly the residents, in thousands (shops and hotels count)
    jitter_m: float  # customers lie within this distance of the centre
    streets: tuple[tuple[str, int], ...]  # (street, highest house number)


# Centre, population-like weight and jitter radius of each place.
TOWN_TABLE = """
Andorra la Vella     42.5078  1.5211  22.0  400
Escaldes-Engordany   42.5096  1.5389  14.0  350
Encamp               42.5350  1.5830   8.0  350
Sant Julià de Lòria  42.4637  1.4913   8.0  300
La Massana           42.5450  1.5147   5.0  300
Santa Coloma         42.4950  1.4980   3.0  250
Ordino               42.5560  1.5331   2.5  200
Pas de la Casa       42.5425  1.7330   2.5  250
Canillo              42.5670  1.5990   1.5  200
Arinsal              42.5720  1.4840   1.5  150
Anyós                42.5340  1.5250   0.8  150
Soldeu               42.5770  1.6680   0.6  150
"""

# Streets of each place, with the highest house number drawn.
STREET_TABLE = """
Andorra la Vella: Av. Meritxell 120; Av. Príncep Benlloch 90; Av. Tarragona 80
Andorra la Vella: Carrer Doctor Vilanova 25; Carrer Prat de la Creu 110
Andorra la Vella: Av. Santa Coloma 100; Carrer Bonaventura Armengol 40
Andorra la Vella: Carrer Mossèn Tremosa 20
Escaldes-Engordany: Av. Carlemany 140; Av. del Fener 30; Carrer de la Unió 20
Escaldes-Engordany: Av. de les Escoles 60; Carrer Josep Viladomat 50
Escaldes-Engordany: Carrer Prat Gran 15; Av. Copríncep De Gaulle 40
Encamp: Av. Joan Martí 150; Av. François Mitterrand 90; Carrer dels Escalls 30
Encamp: Carrer Major 60; Carrer Cortals 25
Sant Julià de Lòria: Av. Verge de Canòlich 110; Carrer Major 50; Av. Rocafort 60
Sant Julià de Lòria: Carrer Francesc Cairat 20; Carrer Pui d'Olivesa 30
La Massana: Av. del Ravell 30; Av. Sant Antoni 40; Carrer Major 35
La Massana: Av. de les Comes 25; Carrer dels Barrers 15
Santa Coloma: Av. d'Enclar 130; Carrer Bisbe Iglesias 20; Av. Salou 60
Santa Coloma: Carrer de la Roda 15
Ordino: Carrer Major 30; Travessia d'Ordino 20; Carrer Nou 15; Carretera General 40
Pas de la Casa: Carrer de la Solana 80; Carrer de Catalunya 30
Pas de la Casa: Carrer Sant Jordi 25; Carrer Bearn 20
Canillo: Carretera General 60; Carrer Prat del Riu 20; Av. Sant Joan de Caselles 25
Arinsal: Carretera d'Arinsal 40; Carrer del Comapedrosa 20
Anyós: Carretera d'Anyós 30; Carrer de la Font 12
Soldeu: Carretera General 40; Carrer Sant Bartomeu 15
"""


def _read_towns() -> tuple[Town, ...]:
    streets: dict[str, list[tuple[str, int]]] = {}
    for line in STREET_TABLE.strip().splitlines():
        town, items = line.split(": ")
        for item in items.split("; "):
            street, highest = item.rsplit(" ", 1)
            streets.setdefault(town, []).append((street, int(highest)))
    towns = []
    for line in TOWN_TABLE.strip().splitlines():
        name, lat, lon, weight, jitter_m = line.rsplit(maxsplit=4)
        towns.append(
            Town(
                name,
                float(lat),
                float(lon),
                float(weight),
                float(jitter_m),
                tuple(streets[name]),
            )
        )
    return tuple(towns)


TOWNS = _read_towns()

SURNAMES = (
    "Puig",
    "Vidal",
    "Font",
    "Casal",
    "Serra",
    "Pons",
    "Riba",
    "Soler",
    "Mas",
    "Camp",
    "Cerqueda",
    "Armengol",
    "Pantebre",
    "Naudi",
    "Marticella",
)
SHOPS = (
    "Boutique",
    "Electrònica",
    "Perfumeria",
    "Esports",
    "Òptica",
    "Llibreria",
    "Ferreteria",
)
COLD_SHOPS = ("Farmàcia", "Restaurant", "Hotel", "Clínica veterinària", "Bar")
NOTES = (
    "ring twice",
    "leave at reception",
    "call 10 min before arrival",
    "2nd floor, no lift",
    "entrance at the back, by the garage",
    "leave with the concierge",
    "dog in the garden: do not open the gate",
    "fragile: glassware",
    "shop: deliveries by the side door",
    "prepaid: no cash to collect",
    "parking only in the loading bay",
    "leave with the neighbour on the 1st floor if absent",
)
RETURN_NOTES = (
    "return: parcel ready and labelled",
    "return: wrong size, box at the door",
    "return: customer prints the label",
    "collect return label from customer",
)
COLD_NOTES = (
    "keep refrigerated (2-8 °C)",
    "medicines: keep refrigerated",
    "frozen goods: deliver before anything else",
)

# Depots. Santa Coloma / Andorra la Vella industrial area, and Encamp.
DEPOT_SC: Json = {
    "id": "AND-SC",
    "address": "Av. d'Enclar 112, Santa Coloma (industrial area)",
    "location": {"lat": 42.4960, "lon": 1.4990},
    "opening": ["06:30", "20:30"],
}
DEPOT_EN: Json = {
    "id": "AND-EN",
    "address": "Carrer dels Escalls 20, Encamp",
    "location": {"lat": 42.5350, "lon": 1.5830},
    "opening": ["06:30", "20:30"],
}


# ---------------------------------------------------------------------------
# Helpers.


def clock(minutes: int) -> str:
    """Minutes since midnight as "HH:MM"."""
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def vehicle(
    vid: str,
    depot: str,
    shift: Slot,
    capacity: list[int],
    *,
    fixed_cost: float = 60,
    cost_per_km: float = 0.35,
    cost_per_hour: float = 24,
    skills: tuple[str, ...] = (),
    max_stops: int | None = None,
    profile: str = "van",
    max_duration: str | None = None,
    max_distance_km: float | None = None,
    kind: str = "van",
    breaks: tuple[Json, ...] = (),
) -> Json:
    """A vehicle that starts and ends at ``depot``; default-valued keys are left out
    (in the key order of ``scenarios/README.md``)."""
    v: Json = {
        "id": vid,
        "start_depot": depot,
        "end_depot": depot,
        "shift": list(shift),
        "capacity": capacity,
        "fixed_cost": fixed_cost,
        "cost_per_km": cost_per_km,
        "cost_per_hour": cost_per_hour,
    }
    if profile != "van":
        v["profile"] = profile
    if max_duration is not None:
        v["max_duration"] = max_duration
    if max_stops is not None:
        v["max_stops"] = max_stops
    if max_distance_km is not None:
        v["max_distance_km"] = max_distance_km
    if skills:
        v["skills"] = list(skills)
    if kind != "van":
        v["kind"] = kind
    if breaks:
        v["breaks"] = list(breaks)
    return v


def jitter(rng: random.Random, lat: float, lon: float, radius_m: float) -> Json:
    """A point uniformly distributed in the disc of ``radius_m`` around (lat, lon)."""
    r = radius_m * math.sqrt(rng.random())
    a = rng.uniform(0.0, 2.0 * math.pi)
    dlat = math.degrees(r * math.cos(a) / EARTH_RADIUS_M)
    dlon = math.degrees(
        r * math.sin(a) / (EARTH_RADIUS_M * math.cos(math.radians(lat)))
    )
    return {"lat": round(lat + dlat, 5), "lon": round(lon + dlon, 5)}


def customer(rng: random.Random, business: tuple[str, ...] = ()) -> tuple[str, Json]:
    """An address and location drawn with population weights.

    With ``business`` the address is prefixed by a shop name drawn from it.
    """
    town = rng.choices(TOWNS, weights=[t.weight for t in TOWNS])[0]
    street, highest = rng.choice(town.streets)
    address = f"{street} {rng.randint(1, highest)}, {town.name}"
    if business:
        address = f"{rng.choice(business)} {rng.choice(SURNAMES)}, {address}"
    return address, jitter(rng, town.lat, town.lon, town.jitter_m)


def parcels_and_kg(rng: random.Random, max_parcels: int, max_kg: int) -> list[int]:
    """A delivery: mostly one or two light parcels, sometimes a few heavier ones."""
    weights = [0.45, 0.28, 0.15, 0.08, 0.04][:max_parcels]
    parcels = rng.choices(range(1, max_parcels + 1), weights=weights)[0]
    kg = sum(rng.triangular(0.5, 12.0, 1.5) for _ in range(parcels))
    return [min(max_kg, max(1, round(kg))), parcels]


def a_return(rng: random.Random) -> list[int]:
    """A return pickup: one parcel, now and then two."""
    parcels = rng.choices((1, 2), weights=(0.8, 0.2))[0]
    return [min(15, max(1, round(rng.triangular(0.5, 8.0, 1.5) * parcels))), parcels]


def service_s(rng: random.Random, delivery: list[int], pickup: list[int]) -> int:
    """Time at the stop, 2 to 6 minutes, in 30 s steps."""
    s = 90 + 30 * (delivery[1] + pickup[1]) + (30 if delivery[0] > 15 else 0)
    s += rng.choice((0, 0, 30, 60, 90))
    return min(360, max(120, s))


def slot_list(specs: str) -> list[Slot]:
    """``"08-10 10:30-11:00"`` as (start, end) clock pairs."""
    out: list[Slot] = []
    for spec in specs.split():
        a, b = (x if ":" in x else f"{x}:00" for x in spec.split("-"))
        out.append((a, b))
    return out


def slot_pairs(*specs: str) -> list[tuple[Slot, Slot]]:
    """``"08-10 or 17-19"`` specs as pairs of alternative slots."""
    out = []
    for spec in specs:
        first, second = slot_list(spec.replace(" or ", " "))
        out.append((first, second))
    return out


def order(
    oid: str,
    address: str,
    location: Json,
    windows: list[Slot],
    service: int,
    delivery: list[int],
    pickup: list[int] | None = None,
    *,
    skills: tuple[str, ...] = (),
    priority: int = 0,
    penalty: float | None = None,
    notes: str = "",
    tier: str | None = None,
    vehicle_kinds: tuple[str, ...] = (),
) -> Json:
    """An order in the file's key order; default-valued keys are left out."""
    o: Json = {
        "id": oid,
        "address": address,
        "location": location,
        "windows": [list(w) for w in windows],
        "service": service,
        "delivery": delivery,
    }
    if pickup and any(pickup):
        o["pickup"] = pickup
    if skills:
        o["skills"] = list(skills)
    if priority:
        o["priority"] = priority
    if penalty is not None:
        o["optional"] = True
        o["penalty"] = penalty
    if notes:
        o["notes"] = notes
    if tier is not None:
        o["tier"] = tier
    if vehicle_kinds:
        o["vehicle_kinds"] = sorted(vehicle_kinds)
    return o


def pick(rng: random.Random, pool: list[int], k: int) -> set[int]:
    """Take ``k`` random indices out of ``pool`` (removing them from it)."""
    chosen = rng.sample(pool, k)
    for i in chosen:
        pool.remove(i)
    return set(chosen)


class DaySpec(NamedTuple):
    """What a generated day looks like; the counts are exact."""

    prefix: str
    n_orders: int
    slots: list[tuple[Slot, float]]  # booked slots and their popularity
    alt_pairs: list[tuple[Slot, Slot]]  # "morning or evening" bookings
    n_alternative: int
    n_returns: int  # orders with a pickup, pickup-only ones included
    n_pickup_only: int
    n_cold: int
    cold_slots: list[Slot]  # slots the cold-chain vans both cover
    max_parcels: int
    notes_rate: float = 0.2


def generate_orders(rng: random.Random, spec: DaySpec) -> list[Json]:
    """Orders with the exact feature counts of ``spec``, features on distinct orders
    except that a delivery-and-return may also have alternative slots."""
    n = spec.n_orders
    pool = list(range(n))
    cold = pick(rng, pool, spec.n_cold)
    pickup_only = pick(rng, pool, spec.n_pickup_only)
    returns = pick(rng, pool, spec.n_returns - spec.n_pickup_only)
    alternative = pick(rng, pool + sorted(returns), spec.n_alternative)
    slots, popularity = zip(*spec.slots, strict=True)
    orders = []
    for i in range(n):
        oid = f"{spec.prefix}-{i + 1:03d}"
        skills: tuple[str, ...] = ()
        notes = rng.choice(NOTES) if rng.random() < spec.notes_rate else ""
        if i in cold:
            address, location = customer(rng, COLD_SHOPS)
            windows = [rng.choice(spec.cold_slots)]
            skills, notes = ("cold_chain",), rng.choice(COLD_NOTES)
        else:
            address, location = customer(rng, SHOPS if rng.random() < 0.15 else ())
            windows = [rng.choices(slots, weights=popularity)[0]]
        if i in alternative:
            pair = rng.choice(spec.alt_pairs)
            windows = list(pair)
            notes = f"at work {pair[0][1]}-{pair[1][0]}: either slot"
        delivery = parcels_and_kg(rng, spec.max_parcels, 30)
        pickup = None
        if i in pickup_only:
            delivery, pickup = [0, 0], a_return(rng)
            notes = "pickup only: " + rng.choice(RETURN_NOTES).removeprefix("return: ")
        elif i in returns:
            pickup = a_return(rng)
            if not notes:
                notes = rng.choice(RETURN_NOTES)
        service = service_s(rng, delivery, pickup or [0, 0])
        orders.append(
            order(
                oid,
                address,
                location,
                windows,
                service,
                delivery,
                pickup,
                skills=skills,
                notes=notes,
            )
        )
    return orders


# ---------------------------------------------------------------------------
# The scenarios.


def tutorial() -> Json:
    """Small and hand-written: one depot, two vans, twelve orders."""
    depot = dict(DEPOT_SC, opening=["07:00", "19:00"])
    vans = [
        vehicle("van-1", "AND-SC", ("08:00", "16:00"), [600, 60]),
        vehicle("van-2", "AND-SC", ("10:00", "18:00"), [600, 60]),
    ]
    w = slot_list("08-10 10-12 12-14 14-16 16-18")
    early, morning, noon, afternoon, evening = ([s] for s in w)
    orders = [
        order(
            "o-01",
            "Carrer Doctor Vilanova 9, Andorra la Vella",
            {"lat": 42.50695, "lon": 1.51975},
            early,
            180,
            [4, 2],
            notes="ring twice",
        ),
        order(
            "o-02",
            "Av. d'Enclar 45, Santa Coloma",
            {"lat": 42.49455, "lon": 1.49905},
            early,
            120,
            [2, 1],
        ),
        order(
            "o-03",
            "Av. Meritxell 45, Andorra la Vella",
            {"lat": 42.50765, "lon": 1.52360},
            morning,
            180,
            [12, 1],
        ),
        order(
            "o-04",
            "Av. Carlemany 70, Escaldes-Engordany",
            {"lat": 42.50940, "lon": 1.53720},
            morning,
            240,
            [8, 1],
            [6, 1],
            notes="return: wrong size, box at the door",
        ),
        order(
            "o-05",
            "Carrer Major 18, Ordino",
            {"lat": 42.55620, "lon": 1.53350},
            morning,
            150,
            [3, 1],
        ),
        order(
            "o-06",
            "Av. del Fener 12, Escaldes-Engordany",
            {"lat": 42.51120, "lon": 1.54050},
            noon,
            300,
            [20, 3],
            notes="shop: deliveries by the side door",
        ),
        order(
            "o-07",
            "Av. Joan Martí 120, Encamp",
            {"lat": 42.53550, "lon": 1.58250},
            noon,
            360,
            [25, 4],
        ),
        order(
            "o-08",
            "Av. Verge de Canòlich 30, Sant Julià de Lòria",
            {"lat": 42.46450, "lon": 1.49150},
            afternoon,
            240,
            [15, 2],
            notes="leave at reception",
        ),
        order(
            "o-09",
            "Carretera d'Anyós 5, Anyós",
            {"lat": 42.53380, "lon": 1.52480},
            afternoon,
            150,
            [5, 1],
        ),
        order(
            "o-10",
            "Av. del Ravell 8, La Massana",
            {"lat": 42.54520, "lon": 1.51530},
            [w[0], w[4]],
            180,
            [6, 1],
            notes="at work 10-16: morning or evening slot",
        ),
        order(
            "o-11",
            "Carrer Prat de la Creu 59, Andorra la Vella",
            {"lat": 42.50600, "lon": 1.52700},
            evening,
            240,
            [10, 2],
            [3, 1],
            notes="return: parcel ready and labelled",
        ),
        order(
            "o-12",
            "Carrer de la Unió 7, Escaldes-Engordany",
            {"lat": 42.50880, "lon": 1.53550},
            evening,
            120,
            [1, 1],
            notes="leave with the neighbour on the 1st floor if absent",
        ),
    ]
    return {
        "name": "tutorial: one depot, two vans, twelve orders",
        "date": "2026-11-23",
        "quantities": QUANTITIES,
        "travel": TRAVEL,
        "depots": [depot],
        "vehicles": vans,
        "orders": orders,
    }


WEEKDAY_SLOTS: list[tuple[Slot, float]] = list(
    zip(
        slot_list(
            "08-10 09-11 10-12 12-14 14-16 16-18 17-19 09-10 11-12 13-14 15-16 17-18"
        ),
        (10, 10, 12, 10, 12, 12, 9, 3, 3, 3, 3, 3),
        strict=True,
    )
)


def andorra_weekday() -> Json:
    """An ordinary Tuesday: 2 depots, 8 vans, 120 orders."""
    rng = random.Random(20261124)
    morning, late = ("08:00", "17:00"), ("10:00", "19:00")
    big, small = [700, 80], [500, 60]
    vans = [
        vehicle("van-01", "AND-SC", morning, big, skills=("cold_chain",)),
        vehicle("van-02", "AND-SC", morning, big),
        vehicle("van-03", "AND-SC", morning, small, fixed_cost=45, cost_per_km=0.28),
        vehicle("van-04", "AND-SC", late, big),
        vehicle("van-05", "AND-SC", late, big),
        vehicle("van-06", "AND-EN", morning, big),
        vehicle("van-07", "AND-EN", late, big, skills=("cold_chain",)),
        vehicle("van-08", "AND-EN", late, small, fixed_cost=45, cost_per_km=0.28),
    ]
    spec = DaySpec(
        prefix="wd",
        n_orders=120,
        slots=WEEKDAY_SLOTS,
        alt_pairs=slot_pairs("08-10 or 17-19", "09-11 or 16-18", "10-12 or 17-19"),
        n_alternative=5,
        n_returns=18,
        n_pickup_only=4,
        n_cold=6,
        cold_slots=slot_list("10-12 12-14 14-16"),
        max_parcels=4,
    )
    return {
        "name": "Andorra, ordinary weekday (Tue 24 Nov 2026)",
        "date": "2026-11-24",
        "quantities": QUANTITIES,
        "travel": TRAVEL,
        "depots": [DEPOT_SC, DEPOT_EN],
        "vehicles": vans,
        "orders": generate_orders(rng, spec),
    }


PEAK_SLOTS: list[tuple[Slot, float]] = list(
    zip(
        slot_list("08-10 09-11 10-12 12-14 14-16 16-18 17-19 18-20")
        + slot_list("09-10 11-12 13-14 15-16 17-18 19-20"),
        (9, 9, 11, 9, 10, 11, 10, 8, 3, 3, 3, 3, 3, 3),
        strict=True,
    )
)


def andorra_peak() -> Json:
    """The Tuesday before Christmas: 10 vans (2 partner vans), 150 orders."""
    rng = random.Random(20261222)
    early, day, late, evening = (
        ("07:30", "16:30"),
        ("09:00", "18:00"),
        ("10:00", "19:00"),
        ("12:00", "20:30"),
    )
    big = [700, 90]
    # Drivers get at most 32 stops on the peak day, so routes stay doable.

    def van(*args: Any, **kwargs: Any) -> Json:
        return vehicle(*args, max_stops=32, **kwargs)

    vans = [
        van("van-01", "AND-SC", early, big, skills=("cold_chain",)),
        van("van-02", "AND-SC", early, big),
        van("van-03", "AND-SC", day, big),
        van("van-04", "AND-SC", late, big),
        van("van-05", "AND-SC", evening, big),
        van("van-06", "AND-EN", early, big),
        van("van-07", "AND-EN", late, big, skills=("cold_chain",)),
        van("van-08", "AND-EN", evening, big),
        van("partner-1", "AND-SC", day, [600, 70], fixed_cost=150, cost_per_hour=35),
        van(
            "partner-2",
            "AND-EN",
            ("11:00", "20:00"),
            [600, 70],
            fixed_cost=150,
            cost_per_hour=35,
        ),
    ]
    depots = [dict(d, opening=["06:30", "21:00"]) for d in (DEPOT_SC, DEPOT_EN)]
    spec = DaySpec(
        prefix="pk",
        n_orders=150,
        slots=PEAK_SLOTS,
        alt_pairs=slot_pairs("08-10 or 18-20", "09-11 or 17-19", "12-14 or 18-20"),
        n_alternative=6,
        n_returns=38,
        n_pickup_only=14,
        n_cold=8,
        cold_slots=slot_list("10-12 12-14 14-16"),
        max_parcels=5,
        notes_rate=0.25,
    )
    orders = generate_orders(rng, spec)
    # Ten of the pickup-only stops are non-urgent returns: optional, with the whole
    # working day as window and a penalty (the cost of collecting a day later) that
    # pays for a stop in town but not for a trip up to Pas de la Casa or Soldeu.
    pickup_only = [o for o in orders if o["delivery"] == [0, 0]]
    for o in rng.sample(pickup_only, 10):
        o["windows"] = [["09:00", "18:00"]]
        o["optional"] = True
        o["penalty"] = rng.choice((15, 20, 25, 30))
        o["notes"] = "non-urgent return: may move to another day"
    # VIP customers: priority 1 (twice as costly to leave out), never optional.
    regular = [o for o in orders if "optional" not in o and "skills" not in o]
    for o in rng.sample(regular, 8):
        o["priority"] = 1
        o["notes"] = ("VIP: " + o["notes"]) if o.get("notes") else "VIP customer"
    for o in orders:  # keep the documented key order
        for key in ("skills", "priority", "optional", "penalty", "notes"):
            if key in o:
                o[key] = o.pop(key)
    return {
        "name": "Andorra, pre-Christmas peak (Tue 22 Dec 2026)",
        "date": "2026-12-22",
        "quantities": QUANTITIES,
        "travel": TRAVEL,
        "depots": depots,
        "vehicles": vans,
        "orders": orders,
    }


def andorra_overbooked() -> Json:
    """3 vans for 90 tightly booked orders: the plan must leave some out."""
    rng = random.Random(20261223)
    cap = [600, 50]  # 150 parcels for about 170 booked: capacity alone drops some
    vans = [
        vehicle("van-01", "AND-SC", ("08:00", "17:00"), cap),
        vehicle("van-02", "AND-SC", ("10:00", "19:00"), cap),
        vehicle("van-03", "AND-EN", ("09:00", "18:00"), cap),
    ]
    orders = []
    returns = set(rng.sample(range(87), 9))
    vip = set(rng.sample(sorted(set(range(87)) - returns), 5))
    for i in range(87):
        address, location = customer(rng, SHOPS if rng.random() < 0.15 else ())
        length = rng.choice((30, 60, 60))  # tight slots: half an hour or an hour
        start = rng.randrange(8 * 60, 18 * 60 - length + 1, 30)
        delivery = parcels_and_kg(rng, 4, 30)
        pickup = a_return(rng) if i in returns else None
        notes = rng.choice(NOTES) if rng.random() < 0.2 else ""
        if i in returns and not notes:
            notes = rng.choice(RETURN_NOTES)
        if i in vip:
            notes = "VIP customer"
        orders.append(
            order(
                f"ob-{i + 1:03d}",
                address,
                location,
                [(clock(start), clock(start + length))],
                service_s(rng, delivery, pickup or [0, 0]),
                delivery,
                pickup,
                priority=1 if i in vip else 0,
                notes=notes,
            )
        )
    # Three orders no vehicle can ever serve, each for a different reason.
    orders.append(
        order(
            "ob-heavy",
            "Carrer de la Roda 4, Santa Coloma",
            {"lat": 42.49410, "lon": 1.49760},
            [("09:00", "12:00")],
            360,
            [1200, 1],
            notes="pallet of floor tiles, 1.2 t: heavier than any van",
        )
    )
    orders.append(
        order(
            "ob-crane",
            "Carretera General 31, Canillo",
            {"lat": 42.56650, "lon": 1.59840},
            [("10:00", "14:00")],
            360,
            [320, 1],
            skills=("crane",),
            notes="hot tub for the roof terrace: needs a crane",
        )
    )
    orders.append(
        order(
            "ob-early",
            "Av. Meritxell 12, Andorra la Vella",
            {"lat": 42.50690, "lon": 1.52010},
            [("05:00", "05:30")],
            180,
            [18, 3],
            notes="bakery supplies before opening: slot is before every shift",
        )
    )
    return {
        "name": "Andorra, overbooked day (Wed 23 Dec 2026)",
        "date": "2026-12-23",
        "quantities": QUANTITIES,
        "travel": TRAVEL,
        "depots": [DEPOT_SC, DEPOT_EN],
        "vehicles": vans,
        "orders": orders,
    }


# ---------------------------------------------------------------------------
# The full delivery day: every feature of the engine at once.

DELIVERY_DAY_TRAVEL: Json = {
    "provider": "haversine",
    "detour_factor": 1.4,
    "speeds_kmh": {"van": 28, "bike": 15},
}
"""Vans as on the other days; electric cargo bikes average 15 km/h door to door
(the valley streets climb, and a bike parks at the door where a van circles)."""

DELIVERY_DAY_TIERS: list[Json] = [
    {"id": "vip", "priority": 2},
    {"id": "standard", "max_lateness": "0:20", "lateness_cost_per_hour": 30},
    {"id": "economy", "max_lateness": "1:00", "lateness_cost_per_hour": 6},
]
"""VIP slots are hard and a VIP order is four times as costly to leave out;
standard slots may be missed by 20 minutes at 30 per hour late, economy ones by an
hour at 6 per hour (a voucher, not a lost customer)."""

LUNCH: Json = {"window": ["12:00", "13:00"], "duration": "0:30"}
"""Every driver's lunch: 30 minutes starting 12:00-13:00, so over by 13:30."""

VIP_SLOTS = slot_list("09-10 10-11 11-12 13-14 14-15 15-16 16-17 17-18")
STANDARD_SLOTS: list[tuple[Slot, float]] = list(
    zip(
        slot_list("08-10 09-11 10-12 12-14 14-16 16-18 17-19"),
        (10, 10, 12, 8, 12, 12, 9),
        strict=True,
    )
)
ECONOMY_SLOTS = slot_list("08-12 09-13 13-17 14-18 15-19")
COLD_DAY_SLOTS = slot_list("09-11 10-12 13-15 14-16")
"""Inside the 08:00-17:00 shifts of both cold-chain vans."""

BULKY_ITEMS = (
    ("flat-pack wardrobe, 2.1 m long", 45, 2),
    ("65-inch television", 28, 1),
    ("washing machine: take the old one back", 70, 1),
    ("mattress 150 x 200", 30, 1),
    ("garden furniture set", 55, 3),
    ("road bike in its box", 14, 1),
    ("fridge: take the old one back", 65, 1),
)
"""(what, kg, parcels): goods too long or too heavy for a cargo bike's box."""

BULKY_KINDS = ("van", "partner_van")
"""Vehicle kinds that may carry a bulky order (no cargo bikes)."""


class DeliveryMix(NamedTuple):
    """How many orders of each kind a generated delivery day has (besides the
    pickup-and-delivery pairs); each feature is on distinct orders, except that
    returns may fall on VIP and bulky orders and economy orders may have returns."""

    n_orders: int = 108
    n_pickup_only: int = 8  # return stops: collect only, economy tier
    n_with_return: int = 14  # a delivery with a return collected in the same visit
    n_vip: int = 12
    n_cold: int = 6
    n_fragile: int = 8
    n_cash: int = 8
    n_bulky: int = 10
    n_economy: int = 22  # besides the pickup-only stops


DELIVERY_MIX = DeliveryMix()
"""The mix of ``andorra_delivery_day.json``: 108 single-visit orders (plus the six
transfers' 12), 22 of them with a return."""


class PairSpec(NamedTuple):
    """A shop-to-customer transfer: collected at the shop, delivered the same day
    by the same vehicle."""

    shop: str
    pickup_town: str
    pickup_slot: Slot
    delivery_town: str
    delivery_slot: Slot
    goods: list[int]
    max_ride: str | None
    skills: tuple[str, ...]
    kinds: tuple[str, ...]
    tier: str
    notes: str


PAIR_SPECS = (
    PairSpec(
        "Floristeria Puig",
        "Andorra la Vella",
        ("09:00", "11:00"),
        "Escaldes-Engordany",
        ("10:00", "12:00"),
        [4, 1],
        "1:00",
        ("fragile",),
        (),
        "standard",
        "bouquet: keep upright, deliver within the hour",
    ),
    PairSpec(
        "Farmàcia Vidal",
        "Escaldes-Engordany",
        ("10:00", "12:00"),
        "La Massana",
        ("10:30", "12:30"),
        [2, 1],
        "0:45",
        ("cold_chain",),
        (),
        "vip",
        "insulin: keep refrigerated, hand over in person",
    ),
    PairSpec(
        "Electrònica Font",
        "Andorra la Vella",
        ("09:00", "13:00"),
        "Ordino",
        ("14:00", "18:00"),
        [28, 1],
        None,
        (),
        BULKY_KINDS,
        "standard",
        "65-inch television from the shop: van only",
    ),
    PairSpec(
        "Boutique Serra",
        "Escaldes-Engordany",
        ("09:00", "12:00"),
        "Sant Julià de Lòria",
        ("15:00", "19:00"),
        [3, 1],
        None,
        (),
        (),
        "economy",
        "altered suit back to its owner",
    ),
    PairSpec(
        "Pastisseria Casal",
        "Encamp",
        ("13:30", "15:00"),
        "Canillo",
        ("14:30", "16:30"),
        [6, 1],
        "1:00",
        ("fragile",),
        (),
        "standard",
        "birthday cake: keep it flat",
    ),
    PairSpec(
        "Restaurant Pons",
        "Andorra la Vella",
        ("16:30", "17:30"),
        "Santa Coloma",
        ("17:00", "18:30"),
        [12, 2],
        "0:40",
        (),
        (),
        "vip",
        "catering for a reception: hot boxes",
    ),
)
"""The day's transfers; those with ``max_ride`` stay within a few valleys' drive."""


def customer_in(
    rng: random.Random, town_name: str, business: str = ""
) -> tuple[str, Json]:
    """An address and location in the named place; ``business`` prefixes it."""
    town = next(t for t in TOWNS if t.name == town_name)
    street, highest = rng.choice(town.streets)
    address = f"{street} {rng.randint(1, highest)}, {town.name}"
    if business:
        address = f"{business}, {address}"
    return address, jitter(rng, town.lat, town.lon, town.jitter_m)


def delivery_day_fleet() -> list[Json]:
    """Own vans, two cargo bikes and two costly partner vans, all with lunch."""
    lunch = (LUNCH,)
    early, late = ("08:00", "17:00"), ("10:00", "19:00")
    big, small, box = [700, 80], [500, 60], [150, 16]

    def van(*args: Any, **kwargs: Any) -> Json:
        return vehicle(*args, breaks=lunch, **kwargs)

    def bike(vid: str, shift: Slot, **kwargs: Any) -> Json:
        # An e-cargo bike: cheap per km and per day, 20 stops and 40 km a charge.
        return van(
            vid,
            "AND-SC",
            shift,
            box,
            fixed_cost=15,
            cost_per_km=0.02,
            cost_per_hour=20,
            profile="bike",
            kind="cargo_bike",
            max_stops=20,
            max_distance_km=40,
            **kwargs,
        )

    def partner(vid: str, depot: str, shift: Slot) -> Json:
        # Hired with driver for the day: dear, no special skills, 28 stops.
        return van(
            vid,
            depot,
            shift,
            [600, 70],
            fixed_cost=180,
            cost_per_km=0.45,
            cost_per_hour=35,
            kind="partner_van",
            max_stops=28,
        )

    return [
        van("van-01", "AND-SC", early, big, skills=("cold_chain", "fragile")),
        van("van-02", "AND-SC", early, big, skills=("cash_on_delivery", "fragile")),
        van("van-03", "AND-SC", late, big, skills=("cash_on_delivery",)),
        # Part-time driver: 7 hours at most within the 10-19 shift.
        van(
            "van-04",
            "AND-SC",
            late,
            small,
            fixed_cost=45,
            cost_per_km=0.28,
            max_duration="7:00",
        ),
        van("van-05", "AND-EN", early, big, skills=("cash_on_delivery", "cold_chain")),
        van("van-06", "AND-EN", late, big, skills=("fragile",), max_stops=24),
        bike("bike-01", ("08:30", "16:30"), skills=("cash_on_delivery",)),
        bike("bike-02", ("10:30", "18:30")),
        partner("partner-1", "AND-SC", ("09:00", "18:00")),
        partner("partner-2", "AND-EN", ("11:00", "20:00")),
    ]


def delivery_day_orders(
    rng: random.Random, mix: DeliveryMix, *, prefix: str = "dd"
) -> list[Json]:
    """Single-visit orders with the exact feature counts of ``mix``."""
    pool = list(range(mix.n_orders))
    pickup_only = pick(rng, pool, mix.n_pickup_only)
    vip = pick(rng, pool, mix.n_vip)
    cold = pick(rng, pool, mix.n_cold)
    fragile = pick(rng, pool, mix.n_fragile)
    cash = pick(rng, pool, mix.n_cash)
    bulky = pick(rng, pool, mix.n_bulky)
    with_return = pick(rng, pool + sorted(vip | bulky), mix.n_with_return)
    economy = pick(rng, pool, mix.n_economy) | pickup_only
    standard_slots, popularity = zip(*STANDARD_SLOTS, strict=True)
    orders = []
    for i in range(mix.n_orders):
        notes = rng.choice(NOTES) if rng.random() < 0.2 else ""
        skills: tuple[str, ...] = ()
        kinds: tuple[str, ...] = ()
        tier = "vip" if i in vip else "economy" if i in economy else "standard"
        if i in cold:
            address, location = customer(rng, COLD_SHOPS)
            skills, notes = ("cold_chain",), rng.choice(COLD_NOTES)
        else:
            address, location = customer(rng, SHOPS if rng.random() < 0.15 else ())
        if i in cold:
            windows = [rng.choice(COLD_DAY_SLOTS)]
        elif tier == "vip":
            windows = [rng.choice(VIP_SLOTS)]
        elif tier == "economy":
            windows = [rng.choice(ECONOMY_SLOTS)]
        else:
            windows = [rng.choices(standard_slots, weights=popularity)[0]]
        delivery = parcels_and_kg(rng, 4, 30)
        pickup = None
        if i in bulky:
            what, kg, parcels = rng.choice(BULKY_ITEMS)
            delivery, kinds, notes = [kg, parcels], BULKY_KINDS, f"{what}: van only"
        if i in fragile:
            skills, notes = ("fragile",), "fragile: glassware, handle with care"
        if i in cash:
            skills = ("cash_on_delivery",)
            notes = f"cash on delivery: collect {rng.randrange(20, 400, 5)} EUR"
        if i in pickup_only:
            delivery, pickup = [0, 0], a_return(rng)
            notes = "pickup only: " + rng.choice(RETURN_NOTES).removeprefix("return: ")
        elif i in with_return:
            if i in bulky and "take the old one back" in notes:
                pickup = [delivery[0], 1]
            else:
                pickup = a_return(rng)
                notes = (notes + "; " if notes else "") + rng.choice(RETURN_NOTES)
        if tier == "vip":
            notes = ("VIP: " + notes) if notes else "VIP customer"
        service = 360 if i in bulky else service_s(rng, delivery, pickup or [0, 0])
        orders.append(
            order(
                f"{prefix}-{i + 1:03d}",
                address,
                location,
                windows,
                service,
                delivery,
                pickup,
                skills=skills,
                notes=notes,
                tier=tier,
                vehicle_kinds=kinds,
            )
        )
    return orders


def delivery_day_pairs(
    rng: random.Random, specs: tuple[PairSpec, ...] = PAIR_SPECS
) -> tuple[list[Json], list[Json]]:
    """The transfers' orders (pickup at the shop, delivery at the customer's) and
    the ``pairs`` entries that tie them to one vehicle."""
    orders: list[Json] = []
    pairs: list[Json] = []
    for k, spec in enumerate(specs, start=1):
        pid = f"transfer-{k}"
        shop_address, shop_location = customer_in(rng, spec.pickup_town, spec.shop)
        address, location = customer_in(rng, spec.delivery_town)
        common: dict[str, Any] = {
            "skills": spec.skills,
            "tier": spec.tier,
            "vehicle_kinds": spec.kinds,
        }
        orders.append(
            order(
                f"{pid}-pickup",
                shop_address,
                shop_location,
                [spec.pickup_slot],
                180,
                [0, 0],
                spec.goods,
                notes=f"collect for {address.split(', ')[-1]}: {spec.notes}",
                **common,
            )
        )
        orders.append(
            order(
                f"{pid}-delivery",
                address,
                location,
                [spec.delivery_slot],
                180,
                spec.goods,
                notes=f"from {spec.shop}: {spec.notes}",
                **common,
            )
        )
        pair: Json = {
            "id": pid,
            "pickup": f"{pid}-pickup",
            "delivery": f"{pid}-delivery",
        }
        if spec.max_ride is not None:
            pair["max_ride"] = spec.max_ride
        pairs.append(pair)
    return orders, pairs


def delivery_day(
    *,
    seed: int = 20261126,
    mix: DeliveryMix = DELIVERY_MIX,
    with_pairs: bool = True,
    name: str = "Andorra, full delivery day (Thu 26 Nov 2026)",
) -> Json:
    """A delivery day with every feature; ``mix`` and ``with_pairs`` make variants
    (``benchmarks/empty_running.py`` builds a returns-heavy one)."""
    rng = random.Random(seed)
    orders = delivery_day_orders(rng, mix)
    pairs: list[Json] = []
    if with_pairs:
        pair_orders, pairs = delivery_day_pairs(rng)
        orders += pair_orders
    scenario: Json = {
        "name": name,
        "date": "2026-11-26",
        "quantities": QUANTITIES,
        "travel": DELIVERY_DAY_TRAVEL,
        "tiers": DELIVERY_DAY_TIERS,
        "depots": [DEPOT_SC, DEPOT_EN],
        "vehicles": delivery_day_fleet(),
        "orders": orders,
    }
    if pairs:
        scenario["pairs"] = pairs
    return scenario


def andorra_delivery_day() -> Json:
    """Everything at once: tiers, returns, transfers, a mixed fleet, lunch breaks."""
    return delivery_day()


SCENARIOS = {
    "tutorial": tutorial,
    "andorra_weekday": andorra_weekday,
    "andorra_peak": andorra_peak,
    "andorra_overbooked": andorra_overbooked,
    "andorra_delivery_day": andorra_delivery_day,
}


# ---------------------------------------------------------------------------
# Output.


def to_json(value: Any, level: int = 0, lead: int = 0) -> str:
    """JSON text: a container on one line when it fits ``JSON_WIDTH``, else one item
    per line. ``lead`` is what precedes the value on its line (indent excluded)."""
    flat = json.dumps(value, ensure_ascii=False)
    if (
        not isinstance(value, dict | list)
        or not value
        or 2 * level + lead + len(flat) <= JSON_WIDTH
    ):
        return flat
    inner = "  " * (level + 1)
    if isinstance(value, dict):
        items = []
        for k, v in value.items():
            key = json.dumps(k, ensure_ascii=False) + ": "
            items.append(inner + key + to_json(v, level + 1, len(key)))
        brackets = "{}"
    else:
        items = [inner + to_json(v, level + 1) for v in value]
        brackets = "[]"
    return brackets[0] + "\n" + ",\n".join(items) + "\n" + "  " * level + brackets[1]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--out-dir",
        type=Path,
        default=Path(__file__).resolve().parent,
        help="where to write the files (default: this folder)",
    )
    parser.add_argument(
        "--only",
        nargs="+",
        choices=sorted(SCENARIOS),
        metavar="NAME",
        help=f"write only these: {', '.join(SCENARIOS)}",
    )
    args = parser.parse_args(argv)
    args.out_dir.mkdir(parents=True, exist_ok=True)
    for name in args.only or SCENARIOS:
        path = args.out_dir / f"{name}.json"
        scenario = SCENARIOS[name]()
        path.write_text(to_json(scenario) + "\n", encoding="utf-8")
        print(f"wrote {path} ({len(scenario['orders'])} orders)")


# ---------------------------------------------------------------------------
# Generated city days of any size (benchmarks/city_days.py).

DEPOT_SJ: Json = {
    "id": "AND-SJ",
    "address": "Av. Verge de Canòlich 95, Sant Julià de Lòria (logistics park)",
    "location": {"lat": 42.4690, "lon": 1.4925},
    "opening": ["06:30", "20:30"],
}
DEPOT_LM: Json = {
    "id": "AND-LM",
    "address": "Av. de les Comes 20, La Massana",
    "location": {"lat": 42.5430, "lon": 1.5160},
    "opening": ["06:30", "20:30"],
}
"""Third depots a generated city day may add: the south (Sant Julià) or the
north-west valley (La Massana, towards Arinsal and Ordino)."""

CITY_DAY_ORDERS_PER_VAN = 50
"""One own van per this many orders, plus a cargo bike and a partner van per three
vans: about 28 orders per vehicle, so that the fleet is tight, not ample. Measured
with our solver (one search): 248 of 250 orders served at 10 s on seeds 1 and 2
(the other 2 fit no vehicle), 480 and 500 of 500 at 30 s."""

CITY_DAY_ALT_PAIRS = slot_pairs(
    "08-10 or 17-19",
    "09-11 or 16-18",
    "10-12 or 17-19",
    "08-10 or 14-16",
    "12-14 or 17-19",
)
"""Two-slot bookings ("morning or evening") of customers at work during the day."""

CITY_DAY_TWO_SLOT_SHARE = (0.10, 0.15)
"""Share of a city day's orders booked with two alternative slots (drawn per day)."""


def city_day_mix(n_orders: int) -> DeliveryMix:
    """The delivery day's feature shares (``DELIVERY_MIX``) scaled to ``n_orders``
    single-visit orders."""
    base = DELIVERY_MIX

    def share(count: int) -> int:
        return round(count * n_orders / base.n_orders)

    return DeliveryMix(
        n_orders=n_orders,
        n_pickup_only=share(base.n_pickup_only),
        n_with_return=share(base.n_with_return),
        n_vip=share(base.n_vip),
        n_cold=share(base.n_cold),
        n_fragile=share(base.n_fragile),
        n_cash=share(base.n_cash),
        n_bulky=share(base.n_bulky),
        n_economy=share(base.n_economy),
    )


def city_day_fleet(n_orders: int, depots: list[str]) -> list[Json]:
    """A fleet for ``n_orders``: copies of the delivery day's vehicles
    (``delivery_day_fleet``: own vans with their skills and shifts, cargo bikes,
    dear partner vans, all with lunch), spread over ``depots`` in turn.

    ``ceil(n_orders / CITY_DAY_ORDERS_PER_VAN)`` vans, and a third as many cargo
    bikes and partner vans (at least one each). Ids ``van-NN``, ``bike-NN``,
    ``partner-NN``.
    """
    template = delivery_day_fleet()
    n_vans = max(1, math.ceil(n_orders / CITY_DAY_ORDERS_PER_VAN))
    n_other = max(1, round(n_vans / 3))
    fleet: list[Json] = []
    for kind, prefix, count in (
        ("van", "van", n_vans),
        ("cargo_bike", "bike", n_other),
        ("partner_van", "partner", n_other),
    ):
        models = [v for v in template if v.get("kind", "van") == kind]
        for k in range(count):
            depot = depots[k % len(depots)]
            copy = dict(models[k % len(models)], start_depot=depot, end_depot=depot)
            fleet.append(dict(copy, id=f"{prefix}-{k + 1:02d}"))
    # Keep the documented key order (id first).
    return [{"id": v["id"], **{k: x for k, x in v.items() if k != "id"}} for v in fleet]


def city_day(
    n_orders: int, seed: int, *, soft: bool = True, pairs: bool = False
) -> Json:
    """A generated city day in Andorra with ``n_orders`` orders, for benchmarks.

    Parameters
    ----------
    n_orders
        Orders in the day (transfers' orders included when ``pairs``), >= 20.
    seed
        Seed of every random draw: the same seed gives the same JSON.
    soft
        Standard and economy tiers have soft slots (``DELIVERY_DAY_TIERS``: 20 min
        at 30 per hour, 60 min at 6 per hour); False: every slot hard. VIP slots
        are hard either way.
    pairs
        Add the delivery day's six shop-to-customer transfers (12 of the orders).

    Returns
    -------
    dict
        Scenario JSON (``scenarios/README.md``): depots ``AND-SC`` and ``AND-EN``,
        plus ``AND-SJ`` or ``AND-LM`` on half of the seeds; the fleet of
        `city_day_fleet`; orders as on the delivery day (`delivery_day_orders`
        with `city_day_mix`: tiers, returns and pickup-only stops, cold-chain /
        fragile / cash-on-delivery skills, bulky orders for vans only), 10-15 % of
        the non-VIP, non-cold-chain orders booked with two alternative slots.
    """
    if n_orders < 20:
        raise ValueError(f"a city day needs at least 20 orders, got {n_orders}")
    rng = random.Random(seed)
    depots = [DEPOT_SC, DEPOT_EN]
    if rng.random() < 0.5:
        depots.append(rng.choice((DEPOT_SJ, DEPOT_LM)))
    two_slot_share = rng.uniform(*CITY_DAY_TWO_SLOT_SHARE)
    n_single = n_orders - (2 * len(PAIR_SPECS) if pairs else 0)
    orders = delivery_day_orders(rng, city_day_mix(n_single), prefix="cd")
    flexible = [
        o
        for o in orders
        if o.get("tier") != "vip" and "cold_chain" not in o.get("skills", ())
    ]
    for o in rng.sample(flexible, round(two_slot_share * n_orders)):
        first, second = rng.choice(CITY_DAY_ALT_PAIRS)
        o["windows"] = [list(first), list(second)]
        either = f"at work {first[1]}-{second[0]}: either slot"
        o["notes"] = f"{o['notes']}; {either}" if o.get("notes") else either
        for key in ("notes", "tier", "vehicle_kinds"):  # the documented key order
            if key in o:
                o[key] = o.pop(key)
    scenario_pairs: list[Json] = []
    if pairs:
        pair_orders, scenario_pairs = delivery_day_pairs(rng)
        orders += pair_orders
    tiers = DELIVERY_DAY_TIERS
    if not soft:
        tiers = [
            {
                k: v
                for k, v in t.items()
                if k not in ("max_lateness", "lateness_cost_per_hour")
            }
            for t in DELIVERY_DAY_TIERS
        ]
    scenario: Json = {
        "name": f"Andorra, generated city day: {n_orders} orders, seed {seed}"
        + ("" if soft else ", hard slots"),
        "date": "2026-11-27",
        "quantities": QUANTITIES,
        "travel": DELIVERY_DAY_TRAVEL,
        "tiers": tiers,
        "depots": depots,
        "vehicles": city_day_fleet(n_orders, [d["id"] for d in depots]),
        "orders": orders,
    }
    if scenario_pairs:
        scenario["pairs"] = scenario_pairs
    return scenario


if __name__ == "__main__":
    main()
