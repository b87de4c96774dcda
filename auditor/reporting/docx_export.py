"""The annual report as a Word document the office can edit before it is signed: the official heading (Nghị định
30/2020/NĐ-CP: Times New Roman, the issuing body and its superior on the left, the national heading on the right),
the leader's page, the key figures, the recipients and signature block, and the appendix of open findings."""

from __future__ import annotations

import io
from typing import Any

from docx import Document
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.shared import Pt
from docx.table import Table, _Cell

from auditor.i18n import _
from auditor.labels import label
from auditor.textformat import day

FONT = "Times New Roman"


def _cell(cell: _Cell, text: str, *, bold: bool = False, center: bool = False, size: int | None = None) -> None:
    p = cell.paragraphs[0]
    run = p.add_run(text)
    run.bold = bold
    if size:
        run.font.size = Pt(size)
    if center:
        p.alignment = WD_ALIGN_PARAGRAPH.CENTER


def _grid(doc: Any, header: list[str], rows: list[list[str]]) -> None:
    """A table, row by row (python-docx's cell(r, c) walks the whole table each time: quadratic)."""
    t: Table = doc.add_table(rows=1, cols=len(header))
    t.style = "Table Grid"
    for cell, h in zip(t.rows[0].cells, header, strict=True):
        _cell(cell, h, bold=True, size=11)
    for values in rows:
        for cell, v in zip(t.add_row().cells, values, strict=True):
            _cell(cell, v, size=11)


def annual_docx(r: dict[str, Any]) -> bytes:
    doc = Document()
    style = doc.styles["Normal"]
    style.font.name = FONT
    style.font.size = Pt(13)
    h = r["heading"]
    head = doc.add_table(rows=1, cols=2)
    head.alignment = WD_TABLE_ALIGNMENT.CENTER
    left = head.cell(0, 0).paragraphs[0]
    left.alignment = WD_ALIGN_PARAGRAPH.CENTER
    if h.get("superior"):
        left.add_run(str(h["superior"]).upper() + "\n").font.size = Pt(12)
    run = left.add_run(str(h["issuer"]).upper() + "\n")
    run.bold, run.font.size = True, Pt(12)
    left.add_run(_("Document No.") + ": ……/BC-……").font.size = Pt(13)
    right = head.cell(0, 1).paragraphs[0]
    right.alignment = WD_ALIGN_PARAGRAPH.CENTER
    run = right.add_run(_("SOCIALIST REPUBLIC OF VIET NAM") + "\n")
    run.bold, run.font.size = True, Pt(12)
    run = right.add_run(_("Independence - Freedom - Happiness") + "\n")
    run.bold, run.font.size = True, Pt(13)
    run = right.add_run(_("{place}, {day}/{month}/{year}").format(place=h.get("place") or "", day=h["day"],
                                                                    month=h["month"], year=h["year"]))
    run.italic = True
    title = doc.add_paragraph()
    title.alignment = WD_ALIGN_PARAGRAPH.CENTER
    run = title.add_run(_("Report").upper())
    run.bold, run.font.size = True, Pt(14)
    subject = doc.add_paragraph()
    subject.alignment = WD_ALIGN_PARAGRAPH.CENTER
    subject.add_run(_("On the security of information systems by level, year {year}").format(year=r["year"])).bold = True
    doc.add_paragraph(_("Reporting period") + f": {day(r['period']['start'])} – {day(r['period']['end'])}. "
                      + _("Legal basis") + f": {r.get('regime_title') or r['regime']}.")

    L = r["leader"]
    doc.add_heading("1. " + _("For the leadership: where things stand and who must act"), level=2)
    shown = L["open_findings"] if L["open_findings"] is not None else _("no data (nothing scanned)")
    doc.add_paragraph(f"{_('Open technical findings (not accepted)')}: {shown} "
                      f"({_('{n} past their due date').format(n=L['overdue_findings'])}). "
                      f"{_('Obligations not met')}: {r['obligations']['fail'] + r['obligations']['indeterminate']}. "
                      f"{_('Risks accepted')}: {len(L['accepted'])}.")
    doc.add_heading(_("The five most serious risks"), level=3)
    if not L["top_risks"]:
        doc.add_paragraph(_("No open technical finding."))
    for f in L["top_risks"]:
        p = doc.add_paragraph(style="List Number")
        p.add_run(f"{f['title']} ({label(f['severity'])}) ").bold = True
        p.add_run(_("at {system}, {target}, found on {since}.").format(
            system=f["system_name"], target=f["target"], since=day(f["first_seen"])) + " "
            + _("{unit} must fix it by {due}.").format(unit=f["responsible_name"], due=day(f["due_on"])))
    doc.add_heading(_("Grade of each system"), level=3)
    _grid(doc, [_("System"), _("Owner"), _("Grade")], [[g["name"], g["owner"], label(g["grade"])] for g in L["grades"]])
    doc.add_heading(_("Risks accepted"), level=3)
    if L["accepted"]:
        _grid(doc, [_("Finding"), _("System"), _("Accepted by"), _("Why"), _("Until")],
              [[f["title"], f["system_name"], f["accepted"]["accepted_by"], f["accepted"]["justification"],
                day(f["accepted"]["expires_on"])] for f in L["accepted"]])
    else:
        doc.add_paragraph(_("No risk is accepted."))
    doc.add_heading(_("Key figures"), level=3)
    _grid(doc, [_("Indicator"), _("Result"), _("Target"), _("Met")],
          [[k["title"], _("no data") if k["value"] is None else str(k["value"]), str(k["target"]),
            _("no data") if k["met"] is None else (_("met") if k["met"] else _("not met"))] for k in r["kpis"]])

    closing = doc.add_table(rows=1, cols=2)
    rec = closing.cell(0, 0).paragraphs[0]
    run = rec.add_run(_("Recipients:") + "\n")
    run.bold, run.italic, run.font.size = True, True, Pt(12)
    for name in h["recipients"]:
        rec.add_run(f"- {name};\n").font.size = Pt(11)
    rec.add_run("- " + _("Archive") + ".").font.size = Pt(11)
    sig = closing.cell(0, 1).paragraphs[0]
    sig.alignment = WD_ALIGN_PARAGRAPH.CENTER
    sig.add_run(str(h.get("signer_title") or _("Head of the issuing body")).upper() + "\n\n\n\n").bold = True
    sig.add_run(str(h.get("signer_name") or "")).bold = True

    doc.add_page_break()
    doc.add_heading(_("Appendix: open findings, their remediation, responsible unit and due date"), level=2)
    _grid(doc, [_("No."), _("Finding"), _("Where"), _("Responsible unit"), _("Due"), _("Remediation")],
          [[str(n), f"{f['title']} ({label(f['severity'])})", f"{f['system_name']} ({f['target']})",
            f["responsible_name"], day(f["due_on"]), f["remediation"]]
           for n, f in enumerate(r["appendix"]["findings"], start=1)])
    if r["appendix"]["total"] > len(r["appendix"]["findings"]):
        doc.add_paragraph(_("The {shown} most serious of {total} open findings; all of them are in the findings CSV "
                            "written with this report.").format(shown=len(r["appendix"]["findings"]),
                                                               total=r["appendix"]["total"]))
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()
