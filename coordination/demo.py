"""Demo data: the regions, a handful of organizations and shelters, one user per role.

Idempotent: every record is found by its natural key first, so running it twice adds
nothing the second time.
"""
from sqlalchemy import select

from .accounts.models import ADMIN, CASEWORKER, GUARDIANSHIP, OVERSIGHT, SHELTER_STAFF
from .accounts.models import Organization, Region, User
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
    ("Baku Guardianship and Custody Body", "state", "BAK"),
    ("Office of the Commissioner for Human Rights (Ombudsman)", "state", "BAK"),
    ("Safe Haven Azerbaijan", "ngo", "BAK"),
    ("Caspian Children's Aid", "ngo", "LAN"),
    ("Ganja Youth Shelter Network", "ngo", "GAN"),
    ("Children First International", "international", "BAK"),
]

USERS = [
    ("admin@demo.az", "Aysel Mammadova", ADMIN, "Coordination Platform Administration"),
    ("ngo@demo.az", "Rashad Aliyev", SHELTER_STAFF, "Safe Haven Azerbaijan"),
    ("caseworker@demo.az", "Leyla Huseynova", CASEWORKER, "State Migration Service"),
    ("guardian@demo.az", "Elchin Guliyev", GUARDIANSHIP, "Baku Guardianship and Custody Body"),
    ("ombudsman@demo.az", "Nigar Ismayilova", OVERSIGHT,
     "Office of the Commissioner for Human Rights (Ombudsman)"),
]

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


def _get_or_create(model, lookup: dict, **values):
    instance = db.session.scalar(select(model).filter_by(**lookup))
    if instance is None:
        instance = model(**lookup, **values)
        db.session.add(instance)
        db.session.flush()
    return instance


def seed_demo() -> dict:
    """Add whatever demo data is missing; returns how many records of each kind exist."""
    regions = {code: _get_or_create(Region, {"code": code}, name=name, name_ru=name_ru, name_en=name_en)
               for code, name, name_ru, name_en in REGIONS}
    orgs = {name: _get_or_create(Organization, {"name": name}, kind=kind, region=regions[region])
            for name, kind, region in ORGANIZATIONS}
    for email, name, role, org in USERS:
        if db.session.scalar(select(User).where(User.email == email)) is None:
            user = User(email=email, name=name, role=role, organization=orgs[org])
            user.set_password(DEMO_PASSWORD)
            db.session.add(user)
    stamp = now()
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
                               out_of_service=0, held=0, last_confirmed_at=stamp, version=1)
                db.session.add(pool)
                db.session.flush()
                record_bed_update(pool, None, "demo data", at=stamp)
    db.session.flush()
    return {"regions": len(regions), "organizations": len(orgs), "users": len(USERS),
            "shelters": len(SHELTERS), "pools": pool_count}
