"""Demo data: the regions, the organizations and their shelters, an account for everyone
who has a part in a referral, and the last three days of their work: children registered,
referrals in every status, made through the real services by the people who make them.

Idempotent: every record is found by its natural key first, so running it twice adds
nothing the second time; the children and referrals are made only while the demo's
caseworkers have registered no child (see `_demo_day`).
"""
from contextlib import contextmanager
from datetime import date, datetime, timedelta

from flask import current_app
from sqlalchemy import func, select

from . import clock
from .accounts.models import ADMIN, CASEWORKER, GUARDIANSHIP, OVERSIGHT, SHELTER_STAFF
from .accounts.models import Organization, Region, User
from .audit import services as audit
from .beds.models import BedPool, Shelter
from .beds.services import record_bed_update
from .clock import now
from .extensions import db

DEMO_PASSWORD = "coordination-demo"

# Azerbaijan's 14 economic regions (2021): code, official name, Russian, English.
REGIONS = [
    ("BAK", "Bakı", "Баку", "Baku"),
    ("ABS", "Abşeron-Xızı", "Абшерон-Хызы", "Absheron-Khizi"),
    ("MSH", "Dağlıq Şirvan", "Горный Ширван", "Mountainous Shirvan"),
    ("GAN", "Gəncə-Daşkəsən", "Гянджа-Дашкесан", "Ganja-Dashkasan"),
    ("GAZ", "Qazax-Tovuz", "Газах-Товуз", "Gazakh-Tovuz"),
    ("GUB", "Quba-Xaçmaz", "Губа-Хачмаз", "Guba-Khachmaz"),
    ("KAR", "Qarabağ", "Карабах", "Karabakh"),
    ("EZA", "Şərqi Zəngəzur", "Восточный Зангезур", "East Zangezur"),
    ("LAN", "Lənkəran-Astara", "Ленкорань-Астара", "Lankaran-Astara"),
    ("CAR", "Mərkəzi Aran", "Центральный Аран", "Central Aran"),
    ("MIL", "Mil-Muğan", "Миль-Муган", "Mil-Mughan"),
    ("SHZ", "Şəki-Zaqatala", "Шеки-Загатала", "Shaki-Zagatala"),
    ("SHS", "Şirvan-Salyan", "Ширван-Сальян", "Shirvan-Salyan"),
    ("NAX", "Naxçıvan", "Нахчыван", "Nakhchivan"),
]

ORGANIZATIONS = [
    # name, kind, region code
    ("Coordination Platform Administration", "state", "BAK"),
    ("State Migration Service", "state", "BAK"),
    # Guardianship and custody is a duty of the local executive authorities (qəyyumluq və
    # himayə orqanı of each city or district icra hakimiyyəti); the demo has one body per
    # economic region that has shelters, since an officer's jurisdiction is their body's region.
    ("Baku Guardianship and Custody Body", "state", "BAK"),
    ("Absheron-Khizi Guardianship and Custody Body", "state", "ABS"),
    ("Lankaran-Astara Guardianship and Custody Body", "state", "LAN"),
    ("Ganja-Dashkasan Guardianship and Custody Body", "state", "GAN"),
    ("Gazakh-Tovuz Guardianship and Custody Body", "state", "GAZ"),
    ("Shaki-Zagatala Guardianship and Custody Body", "state", "SHZ"),
    ("Guba-Khachmaz Guardianship and Custody Body", "state", "GUB"),
    ("Office of the Commissioner for Human Rights (Ombudsman)", "state", "BAK"),
    ("Safe Haven Azerbaijan", "ngo", "BAK"),
    ("Caspian Children's Aid", "ngo", "LAN"),
    ("Ganja Youth Shelter Network", "ngo", "GAN"),
    ("Children First International", "international", "BAK"),
]

# email, name, role, organization. The first five are the demo's well-known logins; then a
# shelter-staff account for every organization that runs shelters and a guardianship officer
# for every region that has shelters, so that every referral can be answered.
USERS = [
    ("admin@demo.az", "Aysel Mammadova", ADMIN, "Coordination Platform Administration"),
    ("ngo@demo.az", "Rashad Aliyev", SHELTER_STAFF, "Safe Haven Azerbaijan"),
    ("caseworker@demo.az", "Leyla Huseynova", CASEWORKER, "State Migration Service"),
    ("guardian@demo.az", "Elchin Guliyev", GUARDIANSHIP, "Baku Guardianship and Custody Body"),
    ("ombudsman@demo.az", "Nigar Ismayilova", OVERSIGHT,
     "Office of the Commissioner for Human Rights (Ombudsman)"),
    ("ngo-lankaran@demo.az", "Sevinj Talibova", SHELTER_STAFF, "Caspian Children's Aid"),
    ("ngo-ganja@demo.az", "Farid Hasanov", SHELTER_STAFF, "Ganja Youth Shelter Network"),
    ("ngo-childrenfirst@demo.az", "Kamala Abbasova", SHELTER_STAFF, "Children First International"),
    ("caseworker-lankaran@demo.az", "Ulviyya Mirzayeva", CASEWORKER, "Caspian Children's Aid"),
    ("guardian-absheron@demo.az", "Vugar Rzayev", GUARDIANSHIP, "Absheron-Khizi Guardianship and Custody Body"),
    ("guardian-lankaran@demo.az", "Mahir Bagirov", GUARDIANSHIP, "Lankaran-Astara Guardianship and Custody Body"),
    ("guardian-ganja@demo.az", "Samira Karimova", GUARDIANSHIP, "Ganja-Dashkasan Guardianship and Custody Body"),
    ("guardian-gazakh@demo.az", "Ilgar Jafarov", GUARDIANSHIP, "Gazakh-Tovuz Guardianship and Custody Body"),
    ("guardian-shaki@demo.az", "Konul Najafova", GUARDIANSHIP, "Shaki-Zagatala Guardianship and Custody Body"),
    ("guardian-guba@demo.az", "Aynur Safarova", GUARDIANSHIP, "Guba-Khachmaz Guardianship and Custody Body"),
]
# Everyone reads Azerbaijani (the model's default) but these, to show the other languages.
LOCALES = {"ngo-childrenfirst@demo.az": "en", "caseworker-lankaran@demo.az": "ru"}

# shelter name, operator, region, address, languages (ISO 639 codes), services, pools
# pool: label, admits, min age, max age, capacity, occupied
SHELTERS = [
    ("Safe Haven House Yasamal", "Safe Haven Azerbaijan", "BAK", "12 Sharifzade St, Yasamal, Baku",
     ["az", "ru", "en"], ["psychosocial", "trafficking"],
     [("Girls 12–17", "female", 12, 17, 8, 5), ("Boys 12–17", "male", 12, 17, 8, 7),
      ("Under 12", "any", 0, 11, 4, 1)]),
    ("Safe Haven Mother and Baby Unit", "Safe Haven Azerbaijan", "BAK", "5 Nizami St, Sabail, Baku",
     ["az", "ru"], ["young_mother", "medical"],
     [("Young mothers", "female", 13, 17, 5, 2), ("Infants", "any", 0, 3, 5, 2)]),
    ("Safe Haven Sumgayit", "Safe Haven Azerbaijan", "ABS", "21 Sulh St, Sumgayit",
     ["az", "ru", "fa"], ["psychosocial"],
     [("Boys 10–17", "male", 10, 17, 10, 10), ("Girls 10–17", "female", 10, 17, 6, 3)]),
    ("Caspian Children's Home Lankaran", "Caspian Children's Aid", "LAN", "8 Hazi Aslanov St, Lankaran",
     ["az", "tly", "fa"], ["medical", "disability"],
     [("Girls 6–17", "female", 6, 17, 6, 4), ("Boys 6–17", "male", 6, 17, 6, 6)]),
    ("Caspian Transit Shelter Astara", "Caspian Children's Aid", "LAN", "2 Border Rd, Astara",
     ["az", "fa", "ar"], ["trafficking", "psychosocial"],
     [("Emergency beds", "any", 0, 17, 4, 1), ("Girls 12–17", "female", 12, 17, 4, 0)]),
    ("Caspian Children's Home Masally", "Caspian Children's Aid", "LAN", "14 Heydar Aliyev Ave, Masally",
     ["az", "ru"], ["disability"],
     [("Mixed 0–11", "any", 0, 11, 6, 2), ("Boys 12–17", "male", 12, 17, 5, 4),
      ("Girls 12–17", "female", 12, 17, 5, 5)]),
    ("Ganja Youth House", "Ganja Youth Shelter Network", "GAN", "30 Javadkhan St, Ganja",
     ["az", "ru", "ka"], ["psychosocial", "medical"],
     [("Boys 12–17", "male", 12, 17, 10, 6), ("Girls 12–17", "female", 12, 17, 8, 8)]),
    ("Ganja Family-Type Home", "Ganja Youth Shelter Network", "GAN", "3 Ataturk Ave, Ganja",
     ["az"], ["young_mother"],
     [("Under 12", "any", 0, 11, 6, 3), ("Young mothers", "female", 14, 17, 3, 1)]),
    ("Tovuz Border Shelter", "Ganja Youth Shelter Network", "GAZ", "11 Tovuz Rd, Tovuz",
     ["az", "ka", "ru"], ["trafficking"],
     [("Emergency beds", "any", 0, 17, 3, 0), ("Boys 12–17", "male", 12, 17, 4, 2)]),
    ("Children First Reception Centre", "Children First International", "BAK", "77 Tbilisi Ave, Baku",
     ["en", "ar", "fa", "ru", "az"],
     ["psychosocial", "trafficking", "medical"],
     [("Reception, any", "any", 0, 17, 12, 9), ("Girls 12–17", "female", 12, 17, 6, 2)]),
    ("Children First Shaki", "Children First International", "SHZ", "9 M. F. Akhundzade Ave, Shaki",
     ["az", "en"], ["disability", "psychosocial"],
     [("Mixed 6–17", "any", 6, 17, 8, 3), ("Under 6", "any", 0, 5, 4, 0)]),
    ("Children First Guba", "Children First International", "GUB", "4 Ganjavi St, Guba",
     ["az", "ru", "lez"], ["psychosocial"],
     [("Boys 10–17", "male", 10, 17, 6, 2), ("Girls 10–17", "female", 10, 17, 6, 1)]),
]


# --- the last three days ---------------------------------------------------------------------
# Times are hours before the seeding, for the default holds (HOLD_HOURS = 48, HOLD_HOURS_URGENT =
# 24, HOLD_HOURS_EMERGENCY = 6). They shrink and grow with HOLD_HOURS, so that the same referrals
# are live, running out or expired whatever the hold is, as long as the holds of urgent and
# emergency referrals keep those proportions to it.

# key: given name, family name, sex, age, birth date known (days past the birthday; None: age
# only estimated), nationality, languages (ISO 639), needs, region found in, consent given by,
# registered by, hours ago.
CHILDREN = {
    "layla": ("Layla", "Haddad", "female", 16, None, "Syria", ["ar"], ["psychosocial"], "BAK",
              "Layla herself (16), with an Arabic interpreter", "caseworker@demo.az", 71),
    "reza": ("Reza", "Mohammadi", "male", 13, None, "Iran", ["fa", "az"], [], "GAN",
             "His uncle in Tabriz, by phone, with Reza present", "caseworker@demo.az", 58),
    "bilal": ("Bilal", "Yusufzai", "male", 14, None, "Afghanistan", ["ps", "ur"], [], "GAN",
              "Bilal himself (14), with a Pashto interpreter", "caseworker@demo.az", 50),
    "yusuf": ("Yusuf", "Noori", "male", 9, None, "Afghanistan", ["prs", "ps"], ["psychosocial"], "BAK",
              "Baku Guardianship and Custody Body, his temporary representative", "caseworker@demo.az", 46),
    "anastasia": ("Анастасия", "Волкова", "female", 12, 200, "Russia", ["ru"], [], "ABS",
                  "Her mother in Rostov-on-Don, by video call", "caseworker@demo.az", 44),
    "artyom": ("Artyom", "Smirnov", "male", 16, None, "Russia", ["ru"], [], "LAN",
               "Artyom himself (16)", "caseworker@demo.az", 40),
    "narmin": ("Nərmin", "Qasımova", "female", 11, 40, "Azerbaijan", ["az"], [], "BAK",
               "Baku Guardianship and Custody Body, her temporary representative", "caseworker@demo.az", 34),
    "sakina": ("Sakina", "Haidari", "female", 17, None, "Afghanistan", ["prs"], ["young_mother", "medical"],
               "BAK", "Sakina herself (17), with a Dari interpreter", "caseworker@demo.az", 28),
    "zahra": ("Zahra", "Ahmadi", "female", 15, None, "Afghanistan", ["prs", "fa"], ["psychosocial"], "BAK",
              "Zahra herself (15), with a Dari interpreter", "caseworker@demo.az", 20),
    "fatemeh": ("Fatemeh", "Rahimi", "female", 16, None, "Iran", ["fa", "az"], [], "LAN",
                "Fatemeh herself (16)", "caseworker-lankaran@demo.az", 18),
    "ibrahim": ("Ibrahim", "Rasuli", "male", 15, None, "Afghanistan", ["prs"], [], "GAZ",
                "Ibrahim himself (15), with a Dari interpreter by phone", "caseworker@demo.az", 14),
    "rojin": ("Rojin", "Hasan", "female", 14, None, "Syria", ["ku", "ar"], ["trafficking", "psychosocial"], "BAK",
              "Rojin herself (14), with a Kurdish interpreter", "caseworker@demo.az", 9),
    "mahsa": ("Mahsa", "Jafari", "female", 14, None, "Iran", ["fa", "tly"], [], "LAN",
              "Her grandmother in Astara (Iran), by phone", "caseworker-lankaran@demo.az", 7),
    "shirin": ("Shirin", "Karimi", "female", 13, None, "Iran", ["fa"], [], "BAK",
               "Shirin herself (13), with a Persian interpreter", "caseworker@demo.az", 12),
    "aylin": ("Aylin", "Demir", "female", 15, None, "Türkiye", ["tr", "az"], [], "BAK",
              "Aylin herself (15)", "caseworker@demo.az", 26),
    "mustafa": ("Mustafa", "Hamdan", "male", 12, None, "Syria", ["ar", "tr"], [], "BAK",
                "His father in Gaziantep, by phone", "caseworker@demo.az", 4),
    "hamid": ("Hamid", "Sultani", "male", 15, None, "Afghanistan", ["ps", "prs"], [], "GUB",
              "Hamid himself (15), with a Pashto interpreter", "caseworker@demo.az", 1.5),
}

# Where each child was found: the kind of place, the region, and how many hours before being registered.
FOUND = {
    "layla": ("migrant_detention", "BAK", 5), "reza": ("border_crossing", "NAX", 20),
    "bilal": ("border_crossing", "GAZ", 8), "yusuf": ("police_station", "BAK", 3),
    "anastasia": ("airport", "BAK", 2), "artyom": ("street_outreach", "LAN", 6),
    "narmin": ("hospital", "BAK", 12), "sakina": ("migrant_detention", "BAK", 4),
    "zahra": ("police_station", "BAK", 2.5), "fatemeh": ("border_crossing", "LAN", 3),
    "ibrahim": ("police_station", "GAZ", 7), "rojin": ("other", "BAK", 1.5),
    "mahsa": ("border_crossing", "LAN", 2), "shirin": ("self_referral", "BAK", 0.5),
    "aylin": ("airport", "BAK", 1), "mustafa": ("street_outreach", "BAK", 2), "hamid": ("police_station", "GUB", 4),
}

# child, shelter, pool, urgency, note, steps: (hours ago, action, reason code, reason text); the
# first step makes the draft. Who makes each step follows from the state machine's table.
REFERRALS = [
    ("layla", "Children First Reception Centre", "Girls 12–17", "routine",
     "Arrived alone at Heydar Aliyev airport; says her elder brother lives in Baku.",
     [(70.8, "draft"), (70.5, "submit"), (69, "accept"), (66, "approve"), (62, "place"),
      (5, "discharge", "family_reunification", "Reunited with her elder brother in Baku after the guardianship body assessed his home.")]),
    ("reza", "Ganja Youth House", "Boys 12–17", "urgent",
     "Found at Ganja bus station at night; speaks Azerbaijani and Persian.",
     [(57.5, "draft"), (56, "submit"), (7.9, "expire")]),
    ("bilal", "Ganja Youth House", "Boys 12–17", "routine", "",
     [(49.8, "draft"), (49.5, "submit"), (47, "accept"), (40, "approve"), (30, "place")]),
    ("yusuf", "Children First Shaki", "Mixed 6–17", "routine", "",
     [(45.8, "draft"), (45.5, "submit"),
      (30, "withdraw", "", "A bed came free in Baku, near his uncle's family; referring him there instead.")]),
    ("anastasia", "Safe Haven Sumgayit", "Girls 10–17", "routine",
     "Travelled alone by bus from Derbent; her mother is arranging her return.",
     [(43.8, "draft"), (43.5, "submit")]),
    ("artyom", "Caspian Children's Home Masally", "Boys 12–17", "routine", "",
     [(39.8, "draft"), (39.5, "submit"),
      (36, "decline", "needs_not_met", "He asked to go on with school in Russian; there is no Russian-language "
                                       "school near Masally. A Baku shelter would suit him better.")]),
    ("narmin", "Safe Haven House Yasamal", "Under 12", "urgent", "",
     [(33.8, "draft"), (33.5, "submit"), (31, "accept"),
      (22, "reject", "", "Her aunt in Sumgayit was found; we assessed her home and she takes Nərmin into "
                         "family care.")]),
    ("artyom", "Safe Haven House Yasamal", "Boys 12–17", "routine",
     "Declined by Masally (school in Russian); Yasamal is near a Russian-language school.",
     [(35, "draft"), (34.8, "submit"), (30, "accept")]),
    ("yusuf", "Safe Haven House Yasamal", "Under 12", "urgent", "His uncle's family lives in Yasamal.",
     [(29.8, "draft"), (29.5, "submit"), (27, "accept"), (20, "approve")]),
    ("sakina", "Safe Haven Mother and Baby Unit", "Young mothers", "urgent",
     "With her four-month-old son; both need a doctor's check on arrival.",
     [(27.8, "draft"), (27.5, "submit"), (25, "accept"), (16, "approve")]),
    ("zahra", "Children First Reception Centre", "Girls 12–17", "urgent", "",
     [(19.8, "draft"), (19.5, "submit"), (15, "accept")]),
    ("fatemeh", "Caspian Children's Home Lankaran", "Girls 6–17", "urgent", "",
     [(17.8, "draft"), (17.5, "submit"), (12, "accept")]),
    ("ibrahim", "Tovuz Border Shelter", "Boys 12–17", "urgent",
     "Found by border guards at the Red Bridge crossing; tired but unhurt.",
     [(13.8, "draft"), (13.5, "submit")]),
    ("rojin", "Safe Haven House Yasamal", "Girls 12–17", "emergency",
     "Identified by the police as a possible victim of trafficking; needs a bed tonight.",
     [(3.2, "draft"), (3, "submit")]),
    ("shirin", "Safe Haven House Yasamal", "Girls 12–17", "emergency",
     "Found alone at the Baku railway station at midnight.",
     [(11.8, "draft"), (11.5, "submit"), (11, "place_now")]),
    ("aylin", "Safe Haven House Yasamal", "Girls 12–17", "emergency",
     "Brought by the police at night after her travel companion was arrested.",
     [(25.8, "draft"), (25.5, "submit"), (25, "place_now"),
      (14, "reject_emergency", "", "Her aunt in Ganja is her legal guardian; we arrange for Aylin to live with "
                                   "her family.")]),
    ("mahsa", "Caspian Transit Shelter Astara", "Girls 12–17", "emergency",
     "Crossed at Astara alone; her grandmother on the Iranian side asks for her to be kept safe.",
     [(4.8, "draft"), (4.5, "submit")]),
    ("mustafa", "Children First Reception Centre", "Reception, any", "urgent", "",
     [(3.8, "draft"), (3.5, "submit")]),
    ("reza", "Children First Reception Centre", "Reception, any", "urgent",
     "Ganja did not answer before the hold ran out. Submit once his medical check is back.",
     [(3, "draft")]),
    ("hamid", "Children First Guba", "Boys 10–17", "routine",
     "Stopped at the Samur crossing; his age is to be confirmed with the interpreter before submitting.",
     [(1, "draft")]),
]

# When each shelter's staff last confirmed its counts, in hours (none: not since the demo began,
# so the counts show as stale).
CONFIRMED = {
    "Safe Haven House Yasamal": 2, "Safe Haven Mother and Baby Unit": 3, "Safe Haven Sumgayit": 20,
    "Caspian Children's Home Lankaran": 5, "Caspian Transit Shelter Astara": 1,
    "Caspian Children's Home Masally": 26, "Ganja Youth House": 6, "Tovuz Border Shelter": 40,
    "Children First Reception Centre": 1.5, "Children First Shaki": 10,
}
DEMO_HOURS = 72  # how far back the demo's day begins
DEMO_ADDRESS = "seed-demo"  # the client address of the demo's audit events


def _get_or_create(model, lookup: dict, **values):
    instance = db.session.scalar(select(model).filter_by(**lookup))
    if instance is None:
        instance = model(**lookup, **values)
        db.session.add(instance)
        db.session.flush()
    return instance


def seed_demo() -> dict:
    """Add whatever demo data is missing; returns how many records of each kind exist."""
    started = now().replace(second=0, microsecond=0)  # the demo's times fall on whole minutes
    scale = current_app.config["HOLD_HOURS"] / 48
    begins = started - timedelta(hours=DEMO_HOURS * scale)
    regions = {code: _get_or_create(Region, {"code": code}, name=name, name_ru=name_ru, name_en=name_en)
               for code, name, name_ru, name_en in REGIONS}
    orgs = {name: _get_or_create(Organization, {"name": name}, kind=kind, region=regions[region])
            for name, kind, region in ORGANIZATIONS}
    for email, name, role, org in USERS:
        if db.session.scalar(select(User).where(User.email == email)) is None:
            user = User(email=email, name=name, role=role, organization=orgs[org],
                        locale=LOCALES.get(email, "az"), created_at=begins)
            # Past the password rules on purpose (the demo password is published, so they refuse
            # it): only the demo, which never runs in production, sets a password this way.
            user.set_password(DEMO_PASSWORD)
            db.session.add(user)
    db.session.flush()
    pool_count = 0
    for name, org, region, address, languages, services, pools in SHELTERS:
        shelter = _get_or_create(
            Shelter, {"name": name, "organization_id": orgs[org].id}, region=regions[region],
            address=address, phone="+994 12 000 00 00", status="open",
            languages=languages, services=services, accessibility="")
        for label, admits, min_age, max_age, capacity, occupied in pools:
            pool_count += 1
            existing = db.session.scalar(select(BedPool).filter_by(shelter_id=shelter.id, label=label))
            if existing is None:
                pool = BedPool(shelter=shelter, label=label, admits_sex=admits, min_age=min_age,
                               max_age=max_age, capacity=capacity, occupied=occupied,
                               out_of_service=0, held=0, last_confirmed_at=begins, version=1)
                db.session.add(pool)
                db.session.flush()
                record_bed_update(pool, None, "demo data", at=begins)
    db.session.flush()
    children, referrals = _demo_day(started, scale)
    return {"regions": len(regions), "organizations": len(orgs), "users": len(USERS),
            "shelters": len(SHELTERS), "pools": pool_count, "children": children, "referrals": referrals}


def _demo_users() -> dict[str, User]:
    emails = [email for email, *_ in USERS]
    return {user.email: user for user in db.session.scalars(select(User).where(User.email.in_(emails)))}


def _demo_pool(shelter: str, label: str) -> BedPool | None:
    return db.session.scalar(select(BedPool).join(BedPool.shelter).where(Shelter.name == shelter,
                                                                         BedPool.label == label))


def _born(today: date, years: int, days_after: int) -> date:
    """A birth date `years` and `days_after` days before `today`."""
    try:
        birthday = today.replace(year=today.year - years)
    except ValueError:  # 29 February
        birthday = today.replace(year=today.year - years, day=28)
    return birthday - timedelta(days=days_after)


@contextmanager
def _at(moment: datetime, user: User | None):
    """Run what follows at `moment`, as `user` (None: the system). The clock stays at `moment`
    until `_demo_day` puts it back as it found it."""
    clock.freeze(moment)
    token = audit.act_as(audit.Actor(user_id=user.id, organization_id=user.organization_id,
                                     client_address=DEMO_ADDRESS) if user else audit.SYSTEM)
    try:
        yield
    finally:
        audit.reset(token)


def _demo_day(started: datetime, scale: float) -> tuple[int, int]:
    """The last three days of the demo's people: children registered, referred and moved
    through the state machine by whoever makes each step, in the order it happened. Made
    only while the demo's caseworkers have registered no child, and only if every pool the
    day uses still has the beds it needs; returns how many children and referrals the
    demo's caseworkers have."""
    from .availability import pools_of
    from .beds import operations as beds
    from .beds.parts import keeps_shelter
    from .referrals import services as referrals
    from .referrals.models import Child, Referral

    people = _demo_users()
    caseworkers = [u.id for u in people.values() if u.role == CASEWORKER]

    def demo_counts() -> tuple[int, int]:
        return (db.session.scalar(select(func.count(Child.id)).where(Child.registered_by_id.in_(caseworkers))),
                db.session.scalar(select(func.count(Referral.id)).where(Referral.caseworker_id.in_(caseworkers))))

    if demo_counts()[0] or not _day_fits(people):
        return demo_counts()

    def at(hours: float) -> datetime:
        return started - timedelta(hours=hours * scale)

    children: dict[str, Child] = {}
    steps = []  # (hours ago, order, what to do)

    def register(key):
        (given, family, sex, age, days_after, nationality, languages, needs, region, consent_by,
         email, hours) = CHILDREN[key]
        caseworker = people[email]
        with _at(at(hours), caseworker):
            born = _born(now().date(), age, days_after) if days_after is not None else None
            children[key] = referrals.register_child(
                caseworker, given_name=given, family_name=family, sex=sex, birth_date=born,
                estimated_age=None if born else age, nationality=nationality, languages=languages,
                needs=needs, region_id=_region_id(region), consent_given_by=consent_by,
                consent_given_at=now(), child_assent=True, found_place=FOUND[key][0],
                found_region_id=_region_id(FOUND[key][1]), found_at=now() - timedelta(hours=FOUND[key][2]))

    for key, (*_, hours) in CHILDREN.items():
        steps.append((hours, len(steps), lambda key=key: register(key)))

    for child_key, shelter, label, urgency, note, moves in REFERRALS:
        made = {}  # the referral, once its draft is made

        def draft(hours, child_key=child_key, shelter=shelter, label=label, urgency=urgency, note=note,
                  made=made):
            child = children[child_key]
            with _at(at(hours), child.registered_by):
                made["referral"] = referrals.create_referral(child.registered_by, child,
                                                             _demo_pool(shelter, label), urgency, note)

        def step(hours, action, code="", text="", made=made):
            referral = made["referral"]
            if action == "expire":  # nobody answered: the hold ran out, and expire-holds closes it
                with _at(at(hours), None):
                    referrals.expire_overdue_holds()
                return
            actor = _actor_for(action, referral, people)
            with _at(at(hours), actor):
                referrals.move(referral, action, actor, reason_code=code, reason_text=text)

        for hours, action, *reason in moves:
            if action == "draft":
                steps.append((hours, len(steps), lambda hours=hours, draft=draft: draft(hours)))
            else:
                steps.append((hours, len(steps), lambda hours=hours, action=action, reason=reason, step=step:
                              step(hours, action, *reason)))

    def confirm(shelter_name, hours):
        shelter = db.session.scalar(select(Shelter).where(Shelter.name == shelter_name))
        staff = next(u for u in people.values() if keeps_shelter(u, shelter))
        with _at(at(hours), staff):
            for pool in pools_of(shelter):
                beds.confirm_counts(pool, staff, pool.version)

    for shelter_name, hours in CONFIRMED.items():
        steps.append((hours, len(steps), lambda name=shelter_name, hours=hours: confirm(name, hours)))

    frozen = clock._frozen  # a test may have stopped the clock; put it back as it was
    try:
        for _hours, _order, do in sorted(steps, key=lambda s: (-s[0], s[1])):
            do()
    finally:
        clock.freeze(frozen)
    db.session.flush()
    return demo_counts()


def _region_id(code: str) -> int:
    return db.session.scalar(select(Region.id).where(Region.code == code))


def _actor_for(action: str, referral, people: dict[str, User]) -> User:
    """The demo's person who makes `action` on this referral: its caseworker, the pool's
    staff, or the guardianship officer of the shelter's region."""
    from .referrals.services import MOVES, REFERRING_CASEWORKER, plays

    part = MOVES[action].part
    if part == REFERRING_CASEWORKER:
        return referral.caseworker
    return next(u for u in people.values() if plays(u, part, referral))


def _day_fits(people: dict[str, User]) -> bool:
    """Whether the demo's day can be played on this database as it is: everyone who acts in
    it exists, and every pool it holds beds in is open with as many free beds as the day
    ever holds there. (A database whose demo shelters were changed by hand may not.)"""
    if set(people) != {email for email, *_ in USERS}:
        return False
    needed: dict[tuple[str, str], int] = {}
    for _child, shelter, label, *_rest, moves in REFERRALS:
        if any(action == "submit" for _hours, action, *_reason in moves):
            needed[shelter, label] = needed.get((shelter, label), 0) + 1
    for shelter, label in {(s, lab) for _c, s, lab, *_r in REFERRALS}:
        pool = _demo_pool(shelter, label)
        if pool is None or pool.shelter.status != "open" or not pool.shelter.organization.active:
            return False
        if pool.capacity - pool.in_use < needed.get((shelter, label), 0):
            return False
    return True
