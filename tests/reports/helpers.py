"""Reading a report back as its reader sees it: the rows of its table on the page, and the
rows of its CSV download."""
import csv
import io
from html.parser import HTMLParser

from .conftest import RANGE


class _Tables(HTMLParser):
    """The body rows of each report's table, by the report's key (its section's id)."""

    def __init__(self, html: str):
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self._report = self._row = self._cell = None
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "section" and attrs.get("id", "").startswith("report-"):
            self._report = attrs["id"][len("report-"):]
            self.tables[self._report] = []
        elif tag == "tr" and self._report and self._in_body:
            self._row = []
        elif tag in ("td", "th") and self._row is not None:
            self._cell = []
        elif tag == "tbody":
            self._in_body = True

    _in_body = False

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self._row.append("".join(self._cell).strip())
            self._cell = None
        elif tag == "tr" and self._row is not None:
            self.tables[self._report].append(self._row)
            self._row = None
        elif tag == "tbody":
            self._in_body = False

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def page_tables(client, query: str = RANGE) -> dict[str, list[list[str]]]:
    response = client.get(f"/reports?{query}")
    assert response.status_code == 200, response.get_data(as_text=True)[-2000:]
    return _Tables(response.get_data(as_text=True)).tables


def csv_rows(client, key: str, query: str = RANGE) -> list[list[str]]:
    """The CSV's rows, its header first (without the byte order mark, checked elsewhere)."""
    response = client.get(f"/reports/{key}.csv?{query}")
    assert response.status_code == 200, response.get_data(as_text=True)
    text = response.get_data().decode("utf-8-sig")
    return list(csv.reader(io.StringIO(text)))


def report(client, key: str, query: str = RANGE) -> list[list[str]]:
    """A report's rows, after checking that the page's table and the CSV say the same."""
    on_page = page_tables(client, query)[key]
    in_csv = csv_rows(client, key, query)[1:]
    assert on_page == [[_unguarded(cell) for cell in row] for row in in_csv]
    return on_page


def _unguarded(cell: str) -> str:
    """A CSV cell without the apostrophe that keeps a spreadsheet from running it."""
    return cell[1:] if cell[:1] == "'" and cell[1:2] in ("=", "+", "-", "@", "\t", "\r") else cell
