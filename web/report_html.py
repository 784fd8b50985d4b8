"""The evaluation report of one model version as a self-contained HTML page (inline SVG, no scripts)."""

from __future__ import annotations

from html import escape
from typing import Any

from web.report_svg import bar_chart, heatmap, histogram

STYLE = """
body{font-family:sans-serif;margin:2em auto;max-width:1100px;color:#222;line-height:1.4}
table{border-collapse:collapse;margin:.5em 0 1.5em}td,th{border-bottom:1px solid #ddd;padding:4px 10px;text-align:left}
td.num{text-align:right;font-variant-numeric:tabular-nums}.meaning{color:#555}
.flag{background:#fdecea;border-left:4px solid #c0392b;padding:.6em 1em}.ok{background:#eaf7ee;
border-left:4px solid #2e8b57;padding:.6em 1em}.grid{display:flex;flex-wrap:wrap;gap:12px}
figure{margin:0;border:1px solid #eee;padding:6px}figcaption{font-size:13px;font-weight:bold}
"""

PRIVACY_LABELS = {
    "identical_to_training": "Share identical to a training row",
    "identical_to_training_matched": "Share identical to a training row (holdout-sized training slices)",
    "identical_to_holdout": "Share identical to a holdout row",
    "synthetic_rows": "Synthetic rows compared for copies",
    "real_holdout_identical_to_training": "Real holdout rows identical to a training row (reference)",
    "training_slices": "Training slices of holdout size compared",
    "distance": "Distance",
    "dcr_rows": "Synthetic rows measured",
    "dcr_share": "DCR share (closer to training than to holdout)",
    "dcr_training_median": "Median distance to the closest training row",
    "dcr_training_p05": "5th percentile distance to the closest training row",
    "dcr_holdout_median": "Median distance to the closest holdout row",
    "real_holdout_dcr_training_median": "Median distance of real holdout rows to training (reference)",
}


def _number(value: Any, percent: bool = False) -> str:
    if value is None:
        return "—"
    return f"{value:.1%}" if percent else f"{value:.3f}"


def _figure(value: Any) -> str:
    return f"{value:.4f}" if isinstance(value, float) else str(value)


def _get(report: dict, *path: str) -> Any:
    for key in path:
        if not isinstance(report, dict):
            return None
        report = report.get(key)
    return report


SEED_FIGURE_OF = {
    "Quality score": "quality_score", "Column Shapes": "column_shapes", "Column Pair Trends": "column_pair_trends",
    "TSTR AUC": "tstr_auc", "TSTR / TRTR": "tstr_ratio", "DCR share": "dcr_share",
    "Identical to training": "identical_to_training", "Identical to holdout": "identical_to_holdout",
    "BMI rule broken": "bmi_off_share",
}


def _over_seeds(report: dict, name: str, percent: bool) -> str:
    figure = _get(report, "seeds", "figures", SEED_FIGURE_OF.get(name, ""))
    if not figure or figure.get("mean") is None:
        return ""
    return f"{_number(figure['mean'], percent)} ± {_number(figure['std'], percent)}"


def score_rows(report: dict) -> list[tuple[str, Any, bool, str]]:
    """(name, value, shown as percent, one-line meaning) for every headline figure of the report."""
    quality = ("fidelity", "quality")
    rows = [
        ("Quality score", _get(report, *quality, "score"), False,
         "Overall resemblance to the training rows (mean of Column Shapes and Column Pair Trends); 1 is identical."),
        ("Column Shapes", _get(report, *quality, "properties", "Column Shapes"), False,
         "How closely each column's distribution matches the real one (KS / total-variation complement)."),
        ("Column Pair Trends", _get(report, *quality, "properties", "Column Pair Trends"), False,
         "How well correlations and contingencies are kept, over the pairs strongly related in real data "
         "(|r| > 0.5 or Cramér's V > 0.3; SDMetrics skips the others)."),
        ("Holdout quality (reference)", _get(report, "fidelity", "holdout_quality"), False,
         "The quality score of real unseen rows against the training rows: the mark a faithful synthesizer reaches."),
        ("Diagnostic score", _get(report, "fidelity", "diagnostic", "score"), False,
         "Basic validity: values within real ranges and categories, same columns; should be 1."),
        ("TSTR AUC", _get(report, "utility", "tstr_auc"), False,
         "Train on synthetic, test on real: ROC AUC on the holdout of a classifier fitted to synthetic rows."),
        ("TRTR AUC", _get(report, "utility", "trtr_auc"), False,
         "Train on real, test on real: the same classifier fitted to the training rows, the mark to reach."),
        ("TSTR / TRTR", _get(report, "utility", "ratio"), False,
         "Share of the real data's predictive power the synthetic rows keep; near 1 is best."),
        ("DCR share", _get(report, "privacy", "dcr_share"), True,
         "Synthetic rows closer to training rows than to unseen holdout rows; about 50% means no memorising."),
        ("Identical to training", _get(report, "privacy", "identical_to_training"), True,
         "Synthetic rows that exactly copy a training row."),
        ("Identical to holdout", _get(report, "privacy", "identical_to_holdout"), True,
         "Synthetic rows that exactly equal a holdout row: the chance level of copies."),
        ("Median distance to closest record", _get(report, "privacy", "dcr_training_median"), False,
         "Typical Gower distance from a synthetic row to its nearest training row (0 = a copy)."),
    ]
    bmi = _get(report, "rules", "bmi")
    if bmi:
        rows.append(("BMI rule broken", bmi.get("synthetic_off_share"), True,
                     f"Synthetic rows whose bmi is more than {bmi.get('tolerance', 1)} from weight / height²; "
                     f"real rows: {_number(bmi.get('real_off_share'), True)}."))
    return rows


def header(manifest: dict) -> str:
    name = f"{manifest.get('name', 'model')} v{manifest.get('version', '?')}"
    facts = [
        ("Method", manifest.get("method")),
        ("Parameters", ", ".join(f"{k}={v}" for k, v in (manifest.get("parameters") or {}).items()) or "defaults"),
        ("Dataset", manifest.get("dataset_path")),
        ("Rows trained on", manifest.get("rows")),
        ("Trained at", manifest.get("created_at")),
        ("Training seconds", manifest.get("training_seconds")),
    ]
    parameters = manifest.get("parameters") or {}
    if "epsilon" in parameters:
        facts.append(("Differential privacy", f"epsilon={parameters['epsilon']}, delta={parameters.get('delta')}: "
                      "the model saw the data only through noisy measurements"))
    cells = "".join(f"<tr><th>{escape(k)}</th><td>{escape(str(v))}</td></tr>" for k, v in facts if v is not None)
    return f"<h1>Evaluation of {escape(name)}</h1><table>{cells}</table>"


def scores_section(report: dict) -> str:
    seeds = _get(report, "seeds", "seeds") or [report.get("seed", 0)]
    rows = "".join(
        f'<tr><th>{escape(name)}</th><td class="num">{_number(value, percent)}</td>'
        f'<td class="num">{escape(_over_seeds(report, name, percent))}</td>'
        f'<td class="meaning">{escape(meaning)}</td></tr>'
        for name, value, percent, meaning in score_rows(report)
    )
    rows_info = report.get("rows") or {}
    counts = ", ".join(f"{escape(str(k))}: {escape(str(v))}" for k, v in rows_info.items())
    reason = _get(report, "utility", "reason")
    note = f"<p>Utility not measured: {escape(reason)}</p>" if reason else ""
    head = (f"<tr><th></th><th>seed {escape(str(seeds[0]))}</th><th>mean ± sd over {len(seeds)} seeds</th>"
            "<th></th></tr>")
    return (f"<h2>Scores</h2><p>Rows — {counts}. Each seed draws a synthetic set as large as the training part "
            f"(seeds {escape(', '.join(map(str, seeds)))}).</p><table>{head}{rows}</table>{note}")


def data_check_section(report: dict) -> str:
    check = report.get("data_check")
    if not check:
        return ""
    findings = "".join(f"<li>{escape(f)}</li>" for f in check.get("findings") or [])
    missing = ", ".join(
        f"{name} {info['missing_share']:.1%}" for name, info in (check.get("columns") or {}).items()
        if info.get("missing_share")
    ) or "none"
    summary = (f"{check['rows_read']} rows read, {check['rows_dropped']} dropped as malformed "
               f"({check['dropped_share']:.2%}; at most {check['max_bad_share']:.0%} allowed), "
               f"{check['duplicate_rows']} duplicate rows kept. Missing values: {missing}.")
    body = f"<ul>{findings}</ul>" if findings else "<p>No problem found.</p>"
    return f"<h2>Input data check</h2><p>{escape(summary)}</p>{body}"


def privacy_section(report: dict) -> str:
    privacy = report.get("privacy") or {}
    flags = privacy.get("flags") or []
    if flags:
        items = "".join(f"<li>{escape(reason)}</li>" for reason in flags)
        box = f'<div class="flag"><strong>Privacy flagged</strong><ul>{items}</ul></div>'
    else:
        box = '<div class="ok"><strong>No privacy flag</strong>: synthetic rows sit no closer to training rows ' \
              "than to unseen rows, and copies are no more frequent than chance.</div>"
    figures = "".join(
        f'<tr><th>{escape(PRIVACY_LABELS.get(key, key))}</th><td class="num">{escape(_figure(value))}</td></tr>'
        for key, value in privacy.items() if key not in ("flags", "flagged")
    )
    return f"<h2>Privacy</h2>{box}<table>{figures}</table>"


def distributions_section(report: dict) -> str:
    columns = _get(report, "plots", "columns") or {}
    shapes = _get(report, "fidelity", "quality", "column_shapes") or {}
    figures = []
    for name, data in columns.items():
        chart = histogram(name, data) if data.get("kind") == "numeric" else bar_chart(name, data)
        score = _get(shapes, name, "score")
        caption = f"{name} — shape score {_number(score)}" if score is not None else name
        figures.append(f"<figure>{chart}<figcaption>{escape(caption)}</figcaption></figure>")
    return f'<h2>Distributions: real vs synthetic</h2><div class="grid">{"".join(figures)}</div>'


def pairs_section(report: dict) -> str:
    associations = _get(report, "plots", "associations") or {}
    maps = []
    if associations.get("columns"):
        for side in ("real", "synthetic"):
            title = f"Associations, {side} rows"
            maps.append(heatmap(title, associations["columns"], associations[side], -1.0, 1.0))
    trends = _get(report, "plots", "pair_trend_scores")
    if trends and trends.get("columns"):
        maps.append(heatmap("Pair-trend scores (grey: not scored)", trends["columns"], trends["scores"], 0.0, 1.0))
    measure = escape(associations.get("measure", ""))
    body = "".join(f"<figure>{svg}</figure>" for svg in maps)
    return f'<h2>Column pair trends</h2><p class="meaning">{measure}</p><div class="grid">{body}</div>'


def render_report(manifest: dict, report: dict, real_df=None, synthetic_df=None) -> str:
    """The page; plot data comes from report['plots'], or from real_df and synthetic_df when the report lacks it."""
    if not report.get("plots") and real_df is not None and synthetic_df is not None:
        from synthesis.evaluation.plots import plot_data

        kinds = {c["name"]: c.get("sdtype") for c in manifest.get("columns", [])}
        numeric = [c for c, kind in kinds.items() if kind in ("numerical", "datetime")]
        categorical = [c for c, kind in kinds.items() if kind in ("categorical", "boolean")]
        report = dict(report, plots=plot_data(real_df, synthetic_df, numeric, categorical))
    title = escape(f"{manifest.get('name', 'model')} v{manifest.get('version', '?')} evaluation")
    seconds = report.get("seconds") or {}
    timing = ", ".join(f"{escape(str(k))} {v}s" for k, v in seconds.items())
    return (
        f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{title}</title>'
        f"<style>{STYLE}</style></head><body>{header(manifest)}{scores_section(report)}{privacy_section(report)}"
        f"{data_check_section(report)}"
        f"{distributions_section(report)}{pairs_section(report)}<p class=\"meaning\">Evaluation time: {timing}</p>"
        "</body></html>"
    )
