"""languages of children and shelters as ISO 639 codes

What people typed as free text becomes codes wherever it can be matched: English,
Azerbaijani and Russian names (from Babel's locale data), other names in common use
("Farsi", "Azeri", "фарси"), each language's name for itself, and codes already; case,
accents and words like "language", "dili", "язык" do not matter. "Russian/Azerbaijani"
and "Arabic and Kurdish" count as two languages when both parts match. What cannot be
matched is kept word for word in `languages_unmapped`, which the child's and the
shelter's pages show with a request to choose the right language, until the record is
next edited.

Downgrading writes the codes back as English names, followed by the unmatched text.

Like every migration, this one imports nothing of the app's: the list of codes below is the
list as it stood when the migration was written.

Revision ID: c4d8e9f0a1b2
Revises: e22ff3816b35
Create Date: 2026-11-28 23:40:00

"""
import re
import unicodedata

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c4d8e9f0a1b2'
down_revision = 'e22ff3816b35'
branch_labels = None
depends_on = None

CODES = (
    "az", "ru", "tr", "fa", "ka", "hy", "tly", "lez", "av", "ce", "tt",
    "prs", "ps", "uz", "tg", "tk", "kk", "ky", "uk", "be", "mn", "ug",
    "ar", "ku", "ckb", "he",
    "ur", "hi", "bn", "pa", "sd", "bal", "ne", "si", "ta",
    "so", "ti", "am", "om", "sw", "ha", "yo", "ig", "ln",
    "zh", "ja", "ko", "vi", "th", "id", "ms",
    "en", "fr", "de", "es", "pt", "it", "pl", "ro", "bg", "sr", "hr", "bs", "sq", "el", "hu", "cs", "nl",
)
CLDR_KEY = {"prs": "fa_AF"}  # CLDR names Dari as the Persian of Afghanistan
ENGLISH_FALLBACK = {"tly": "Talysh", "prs": "Dari"}
OTHER_NAMES = {
    "az": ("Azeri", "Azerbaijan", "Azerbaijani Turkish", "Azərbaycanca", "Azəri", "азери",
           "азербайджанский", "aze"),
    "ru": ("rus", "русский", "по-русски", "Rusca"),
    "en": ("eng", "ingiliscə"),
    "tr": ("tur", "Türkçe", "türkcə", "Turkce"),
    "fa": ("Farsi", "Parsi", "Iranian", "фарси", "farsca", "fas", "per"),
    "prs": ("Dari", "Afghan Persian", "дари"),
    "ps": ("Pushto", "Pashtu", "Afghani", "пушту", "pus"),
    "ar": ("ara", "ərəbcə", "арабский"),
    "ku": ("Kurmanji", "Kurmanci", "Kurmancî", "курманджи", "kur"),
    "ckb": ("Sorani", "сорани"),
    "ka": ("kat", "geo", "gürcücə"),
    "hy": ("hye", "arm"),
    "uk": ("ukr",),
    "uz": ("uzb",),
    "tg": ("Tajiki", "Tadjik", "tgk"),
    "tk": ("tuk",),
    "ur": ("urd",),
    "bn": ("Bengali",),
    "pa": ("Panjabi",),
    "ky": ("Kirghiz",),
    "ug": ("Uighur",),
    "si": ("Sinhalese",),
    "av": ("Avar",),
    "lez": ("Lezgi", "Lezgin", "Lezgian"),
    "tly": ("Talysh", "Talyshi", "талышский", "talış"),
    "zh": ("Mandarin", "zho", "chi"),
    "ro": ("Moldovan", "Moldavian"),
    "de": ("deu", "ger"),
    "fr": ("fra", "fre"),
    "es": ("spa",),
}
FILLER = re.compile(r"\b(language|dili|dilinde|язык|языке)\b")  # as folded
PARTS = re.compile(r"\s*(?:/|;|\+|&|,|\band\b|\bи\b|\bvə\b)\s*", re.IGNORECASE)


def fold(text):
    """A name as compared: case, accents, ə and ı, filler words and punctuation set aside."""
    text = unicodedata.normalize("NFKD", str(text).casefold().replace("ə", "e").replace("ı", "i"))
    text = "".join(c for c in text if not unicodedata.combining(c))
    text = FILLER.sub(" ", text)
    return " ".join(re.sub(r"[\"'«»“”.:!?()\[\]-]", " ", text).split())


_names = None


def names_to_codes():
    """Every name of every code, folded, for looking up what was typed."""
    global _names
    if _names is None:
        from babel import Locale, UnknownLocaleError

        found = {}
        for locale in ("en", "az", "ru"):
            languages = Locale.parse(locale).languages
            for code in CODES:
                name = languages.get(CLDR_KEY.get(code, code))
                if name:
                    found.setdefault(fold(name), code)
        for code in CODES:
            key = CLDR_KEY.get(code, code)
            try:
                name = Locale.parse(key).languages.get(key)
            except (ValueError, UnknownLocaleError):
                name = None
            if name:
                found.setdefault(fold(name), code)
            found.setdefault(fold(code), code)
            for other in OTHER_NAMES.get(code, ()):
                found.setdefault(fold(other), code)
        _names = found
    return _names


def code_for(text):
    """The code of one language as typed, or None when it is none we know. In "Kurdish
    (Sorani)" the words in brackets say more; in "Persian (Iran)" the words before them."""
    names = names_to_codes()
    text = str(text)
    for candidate in (text, *re.findall(r"\((.*?)\)", text), re.sub(r"\(.*?\)", " ", text)):
        key = fold(candidate)
        if key in names:
            return names[key]
    return None


def map_languages(values):
    """Free-text languages as (codes, unmatched): each code once, in the order typed. An
    entry naming several languages ("Russian/Azerbaijani") gives each one it can match; an
    entry with anything unmatched is also kept as it was typed (trimmed), for a person."""
    codes, unmatched = [], []
    for value in values or []:
        text = str(value).strip() if value is not None else ""
        if not text:
            continue
        code = code_for(text)
        if code is not None:
            found, complete = [code], True
        else:
            parts = [part for part in PARTS.split(text) if part.strip()]
            found = [c for c in (code_for(part) for part in parts) if c]
            complete = len(parts) > 1 and len(found) == len(parts)
        codes += [c for c in found if c not in codes]
        if not complete and text not in unmatched:
            unmatched.append(text)
    return codes, unmatched


def english_names(codes, unmatched):
    """Codes back as English names (for the downgrade), the unmatched text after them."""
    from babel import Locale

    english = Locale.parse("en").languages
    names = [english.get(CLDR_KEY.get(code, code)) or ENGLISH_FALLBACK.get(code, code) for code in codes]
    return names + [text for text in unmatched if text not in names]


def _rows(table):
    return sa.table(table, sa.column('id', sa.Integer()), sa.column('languages', sa.JSON()),
                    sa.column('languages_unmapped', sa.JSON()))


def upgrade():
    for table in ('child', 'shelter'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column('languages_unmapped', sa.JSON(), nullable=False,
                                          server_default=sa.text("'[]'")))
        rows = _rows(table)
        connection = op.get_bind()
        for row_id, languages in connection.execute(sa.select(rows.c.id, rows.c.languages)).all():
            codes, unmatched = map_languages(languages)
            connection.execute(rows.update().where(rows.c.id == row_id)
                               .values(languages=codes, languages_unmapped=unmatched))


def downgrade():
    for table in ('child', 'shelter'):
        rows = _rows(table)
        connection = op.get_bind()
        for row_id, codes, unmatched in connection.execute(
                sa.select(rows.c.id, rows.c.languages, rows.c.languages_unmapped)).all():
            connection.execute(rows.update().where(rows.c.id == row_id)
                               .values(languages=english_names(codes or [], unmatched or [])))
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column('languages_unmapped')
