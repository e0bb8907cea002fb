"""Reading office files: CSV in the encodings Chinese offices use, or .xlsx, into a :class:`Table`.

Every import validates the whole file before it writes anything and reports each problem with
its file, line and field (:class:`Problem`, :class:`Rejected`), so the office can fix them all
in one go. What the rows mean is up to the importers (:mod:`survey.services.branches`,
:mod:`survey.services.paper_ballots`), which take a :class:`Table`, so the browser's upload and
keying grid use the same rules as the command line.
"""

from __future__ import annotations

import csv
import io
import unicodedata
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from flask_babel import gettext as _

from survey.refusals import Invalid

#: Encodings tried, in this order, when a CSV file is not UTF-8.
LEGACY_ENCODINGS = ("gb18030", "big5", "cp950")

#: Very frequent characters of written Chinese in both scripts: evidence that a decoding is right
#: when the file's own vocabulary (labels, branch names) does not settle it.
_COMMON_CHARACTERS = frozenset(
    "的一是不了在人有我他這这個个們们中來来上大為为和國国地到以說说時时要就出會会可也你對对生"
    "能而子那得於于著着下自之年過过發发後后作里裡用道行所然家種种事成方多經经麼么去法學学如都同"
    "現现當当沒没動动面起看定天分還还進进好小部其些主樣样理心她本前開开但因只從从想實实日軍军者"
    "意無无力它與与長长把機机十民第公此已工使情明性知全三又關关點点正業业外將将兩两高間间由問问"
    "很最重並并物手應应戰战向頭头文體体政美相見见被利什二等產产或新己制身果加西斯月話话合回特代"
    "內内信表化老給给世位次度門门任常先海通教兒儿原東东聲声提立及比員员解水名真論论處处走義义各"
    "入幾几口認认條条平系氣气題题活爾尔更別别打女變变四神總总何電电數数安少報报才結结反受目太量"
    "再感建務务做接必場场件計计管期市直德資资命山金指克許许統统區区保至隊队形社便空決决治展馬马"
    "科司五基眼書书非則则聽听白卻却界達达光放強强即像難难且權权思王象完設设式色路記记南品住告類类"
    "求據据程北邊边死張张該该交規规萬万取拉格望覺觉術术領领共確确傳传師师觀观清今切院讓让識识候帶"
    "带導导爭争運运笑飛飞風风步改收根幹干造言聯联持組组每濟济車车親亲極极林服快辦办議议往元英士證"
    "证近失轉转夫令準准布始怎呢存未遠远叫台單单影具羅罗字愛爱擊击流備备兵連连調调深商算質质團团集"
    "百需價价花黨党華华城石級级整府離离況况亞亚請请技際际約约示復复病息究線线似官火斷断精滿满支視"
    "视消越器容照須须九增研寫写稱称企八功嗎吗包片史委乎查輕轻易早曾除農农找裝装廣广顯显吧阿李標标"
    "談谈吃圖图念六引歷历首醫医局突專专費费號号盡尽另周較较注語语仅僅考落青隨随選选列武紅红響响雖"
    "虽推勢势參参希古眾众構构房半節节土投某案黑維维革劃划敵敌致陳陈律足態态護护七興兴派孩驗验責责"
    "營营星够夠章音跟志底站嚴严巴例防族供效續续施留講讲型料終终答緊紧黃黄絕绝奇察母京段依批群羣項"
    "项故按河米圍围江織织害斗鬥雙双境客紀纪采採舉举殺杀攻父蘇苏密低朝友訴诉止細细願愿千值仍男錢钱"
    "破網网熱热助倒育屬属坐帝限船臉脸職职速刻樂乐否剛刚威毛狀状率甚獨独球般普怕彈弹校苦創创假久錯"
    "错承印晚蘭兰試试股拿腦脑預预誰谁益陽阳若哪微尼繼继送急血驚惊伤傷素藥药適适波夜省初喜衛卫源食"
    "險险待述陸陆習习置居勞劳財财環环排福納纳歡欢雷警獲获模充負负云雲停木遊游龍龙樹树疑層层冷洲衝"
    "冲射略範范竟句室異异激漢汉村哈策演簡简卡罪判擔担州靜静退既衣您宗積积餘余痛檢检差富靈灵協协角"
    "佔占配征修皮揮挥勝胜降階阶審审沉堅坚善媽妈劉刘讀读啊超免壓压銀银買买皇養养伊懷怀執执副亂乱抗"
    "犯追幫帮宣佛歲岁航優优怪香著础礎端"
)


def _is_rare(character: str) -> bool:
    """Characters that a wrong decoding produces and real office files almost never contain."""
    point = ord(character)
    return (
        0xE000 <= point <= 0xF8FF  # private use
        or 0x3400 <= point <= 0x4DBF  # CJK extension A
        or 0xF900 <= point <= 0xFAFF  # compatibility ideographs
        or point > 0xFFFF  # outside the basic plane
        or 0x80 <= point <= 0x9F  # C1 controls
        or unicodedata.category(character) in {"Cn", "Co", "Cs"}
    )


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with an input: where it is (file, line, field) and what is wrong."""

    source: str
    line: int | None
    field: str | None
    message: str

    def order(self) -> tuple[bool, int]:
        """Sort key: problems of the whole file first, then by line."""
        return self.line is not None, self.line or 0

    def __str__(self) -> str:
        where = f"{self.source}:{self.line}" if self.line is not None else self.source
        parts = [where, self.field, self.message] if self.field else [where, self.message]
        return ": ".join(parts)


class Rejected(Invalid):
    """An input with problems, each with its place; nothing was written."""

    def __init__(self, problems: Iterable[Problem]):
        self.problems = sorted(problems, key=Problem.order)
        super().__init__([str(p) for p in self.problems])


@dataclass(frozen=True, slots=True)
class Row:
    """One non-blank line of a table: its line number and its cells, by column name."""

    line: int
    cells: dict[str, str]

    def get(self, name: str) -> str:
        """The stripped cell of column ``name`` ("" when blank or absent)."""
        return (self.cells.get(name) or "").strip()


@dataclass
class Table:
    """A header and rows read from a CSV or .xlsx file, or built by the browser's keying grid.

    ``header`` keeps the column names as written until :meth:`check_header` matches them to the
    expected names. Cells beyond the header are kept apart so that they can be reported.
    """

    source: str
    header: list[str]
    header_line: int = 1
    rows: list[Row] = field(default_factory=list)

    def check_header(self, expected: Sequence[str], required: Iterable[str]) -> list[Problem]:
        """Problems with the header: missing required, unknown or repeated columns.

        Names match case-insensitively; the rows' cells are renamed to the expected spelling.
        """
        problems: list[Problem] = []
        canonical = {name.casefold(): name for name in expected}
        seen: dict[str, str] = {}
        renames: dict[str, str] = {}
        for written in self.header:
            if not written:
                continue
            name = canonical.get(_fold(written).casefold())
            if name is None:
                problems.append(
                    Problem(
                        self.source,
                        self.header_line,
                        written,
                        _(
                            'unknown column "%(column)s" (expected: %(expected)s)',
                            column=written,
                            expected=", ".join(expected),
                        ),
                    )
                )
            elif name in seen:
                problems.append(
                    Problem(
                        self.source,
                        self.header_line,
                        written,
                        _('column "%(column)s" appears twice', column=written),
                    )
                )
            else:
                seen[name] = written
                renames[written] = name
        for name in required:
            if name not in seen:
                problems.append(
                    Problem(
                        self.source,
                        self.header_line,
                        name,
                        _('required column "%(column)s" is missing', column=name),
                    )
                )
        for row in self.rows:
            renamed = {renames.get(k, k): v for k, v in row.cells.items()}
            row.cells.clear()
            row.cells.update(renamed)
        self.header = [renames.get(name, name) for name in self.header]
        return problems

    def extra_cells(self) -> list[Problem]:
        """Rows with more filled cells than the header has columns."""
        return [
            Problem(
                self.source,
                row.line,
                None,
                _("this line has more cells than the header has columns"),
            )
            for row in self.rows
            if row.cells.get(_EXTRA)
        ]


#: Cell name under which values beyond the header's last column are kept.
_EXTRA = "\x00extra"


#: Traditional characters of the words office files hold (scale labels, respondent categories,
#: sources, units and branch names), each with its Simplified form, so that 比較好 matches 比较好
#: and 羣眾 or 群眾 match 群众. Only for matching: what is stored keeps the survey's own wording.
#: A fold, not a conversion: no Simplified character is changed, so folding twice is folding once.
_TRADITIONAL_PAIRS = (
    "羣群眾众較较滿满質质紙纸網网絡络黨党員员幹干領领導导職职與与對对書书記记會会機机關关單单"
    "總总區区縣县鎮镇鄉乡廳厅處处醫医學学師师離离聯联辦办務务組组織织類类別别體体參参評评"
    "價价優优號号碼码稱称屬属門门長长層层級级經经濟济業业環环衛卫農农達达進进園园協协統统"
    "線线電电財财稅税獻献義义黃黄產产現现實实態态應应觀观點点項项選选數数據据標标準准響响"
)
_TRADITIONAL = str.maketrans(_TRADITIONAL_PAIRS[0::2], _TRADITIONAL_PAIRS[1::2])


def _fold(value: str) -> str:
    """Normalise what people type: full-width forms, spaces, and Traditional characters (and
    the variant 羣, absent in Big5) to their Simplified forms."""
    return unicodedata.normalize("NFKC", value).strip().translate(_TRADITIONAL)


def folded(value: str) -> str:
    """The form used to match typed labels and keys: width-, space- and variant-insensitive."""
    return _fold(value).casefold()


def decode_text(data: bytes, source: str, vocabulary: Iterable[str] = ()) -> str:
    """Decode a text file written as UTF-8 (with or without BOM), UTF-16, GB18030/GBK or Big5.

    GB18030 and Big5 both decode almost any byte string, so when both succeed the decoding that
    contains more of the expected words (labels, branch names, header) wins, then the one with
    more common and fewer rare characters. Undecodable bytes are reported with their line, and
    so are NUL characters, which no text column can store.
    """
    text = _decode(data, source, vocabulary)
    if "\x00" in text:
        line = text.count("\n", 0, text.index("\x00")) + 1
        raise Rejected(
            [
                Problem(
                    source, line, None, _("the file contains a NUL character; is it a text file?")
                )
            ]
        )
    return text


def _decode(data: bytes, source: str, vocabulary: Iterable[str]) -> str:
    """The decoding of :func:`decode_text`, before its checks."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError as error:
            raise _undecodable(data, source, error) from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as utf8_error:
        failures = [utf8_error]
    decodings: dict[str, str] = {}
    for encoding in LEGACY_ENCODINGS:
        try:
            decodings.setdefault(data.decode(encoding), encoding)
        except UnicodeDecodeError as error:
            failures.append(error)
    if not decodings:
        raise _undecodable(data, source, max(failures, key=lambda e: e.start))
    known = {ch for word in vocabulary for ch in _fold(word) if ord(ch) > 0x7F}
    return max(decodings, key=lambda text: _plausibility(text, known))


def _plausibility(text: str, known: set[str]) -> tuple[int, int, int]:
    """How much a decoding looks like the file the office meant to write."""
    characters = [ch for ch in _fold(text) if ord(ch) > 0x7F]
    return (
        sum(ch in known for ch in characters),
        sum(ch in _COMMON_CHARACTERS for ch in characters),
        -sum(_is_rare(ch) for ch in characters),
    )


def _undecodable(data: bytes, source: str, error: UnicodeDecodeError) -> Rejected:
    """The refusal for a file whose bytes are text in none of the accepted encodings."""
    line = data.count(b"\n", 0, error.start) + 1
    return Rejected(
        [
            Problem(
                source,
                line,
                None,
                _(
                    "the text cannot be read as UTF-8, GB18030 (GBK) or Big5 (bytes %(bytes)s); "
                    "save the file as CSV UTF-8 and try again",
                    bytes=data[error.start : error.start + 2].hex(" ").upper(),
                ),
            )
        ]
    )


def read_table(data: bytes, source: str, vocabulary: Iterable[str] = ()) -> Table:
    """Read a CSV or .xlsx file into a :class:`Table`; blank lines are skipped.

    ``source`` is the file name shown in problems; ``vocabulary`` holds words the file is
    expected to contain, which settles between GB18030 and Big5.
    """
    if source.lower().endswith((".xlsx", ".xlsm")) or data.startswith(b"PK\x03\x04"):
        lines = _xlsx_lines(data, source)
    elif source.lower().endswith(".xls"):
        raise Rejected(
            [Problem(source, None, None, _("old .xls files are not read; save as .xlsx or CSV"))]
        )
    else:
        lines = _csv_lines(decode_text(data, source, vocabulary))
    lines = [(number, cells) for number, cells in lines if any(cells)]
    if not lines:
        raise Rejected([Problem(source, None, None, _("the file is empty"))])
    (header_line, header), rows = lines[0], lines[1:]
    header = [_fold(name) for name in header]
    while header and not header[-1]:
        header.pop()
    table = Table(source, header, header_line)
    for number, cells in rows:
        named = {name: value for name, value in zip(header, cells, strict=False) if name}
        extra = [value for value in cells[len(header) :] if value]
        if extra:
            named[_EXTRA] = ",".join(extra)
        table.rows.append(Row(number, named))
    return table


def _csv_lines(text: str) -> list[tuple[int, list[str]]]:
    """Records of a CSV text with the line each starts on (a quoted cell may span lines)."""
    first = text.split("\n", 1)[0]
    delimiter = ","
    if "," not in first:
        delimiter = next((d for d in ("\t", ";") if d in first), ",")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    records = []
    start = 1
    for cells in reader:
        records.append((start, [cell.strip() for cell in cells]))
        start = reader.line_num + 1
    return records


def _xlsx_lines(data: bytes, source: str) -> list[tuple[int, list[str]]]:
    """Rows of the first worksheet of an .xlsx file, as text, with their row numbers."""
    from openpyxl import load_workbook

    try:
        with warnings.catch_warnings():
            # Files saved by other programs make openpyxl warn about styles it ignores anyway.
            warnings.simplefilter("ignore")
            workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # openpyxl raises many kinds for a damaged or foreign file
        raise Rejected(
            [Problem(source, None, None, _("this is not a readable .xlsx workbook"))]
        ) from None
    try:
        sheet = workbook.worksheets[0]
        return [
            (number, [_cell_text(value) for value in values])
            for number, values in enumerate(sheet.iter_rows(values_only=True), start=1)
        ]
    finally:
        workbook.close()


def _cell_text(value: object) -> str:
    """A spreadsheet cell as the text the office sees (12.0 is "12")."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()
