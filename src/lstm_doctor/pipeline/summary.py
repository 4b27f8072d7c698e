"""The lines a person reads after a run: test metrics beside each baseline, where the outputs
are, and how to browse the MLflow run."""

from __future__ import annotations

from pathlib import Path

from lstm_doctor.base.workspace import DIAGNOSIS_HTML


def summary(result: dict, output_dir: Path, uri: str) -> str:
    """A few lines a person reads after a run."""
    model = result["model"]
    if "mae" in model:
        mase = f"  MASE {model['mase']:.3f}" if "mase" in model else ""
        lines = [
            f"test MAE {model['mae']:.4g}  RMSE {model['rmse']:.4g}  sMAPE {model['smape']:.2f}%"
            + mase
        ]
        for name, errors in result["baselines"].items():
            lines.append(
                f"  {name:<19} MAE {errors['mae']:<7.4g} (skill {result['skill'][name]:+.3f})"
            )
    else:
        lines = [
            f"test accuracy {model['accuracy']:.3f}  balanced {model['balanced_accuracy']:.3f}"
        ]
        for name, scores in result["baselines"].items():
            lines.append(
                f"  {name:<19} accuracy {scores['accuracy']:.3f}"
                f"  (skill {result['skill'][name]:+.3f})"
            )
    if "best_baseline" in result:
        best = result["best_baseline"]
        verdict = "beats every baseline" if result["skill"]["best"] > 0 else "does not beat"
        lines.append(f"  best baseline: {best}; the model {verdict}"
                     + ("" if result["skill"]["best"] > 0 else f" {best}"))  # fmt: skip
    lines.append(f"outputs: {output_dir}")
    for page in (output_dir / "reports" / DIAGNOSIS_HTML, output_dir / DIAGNOSIS_HTML):
        if page.exists():
            lines.append(f"diagnosis page: {page.resolve()}  ({page.resolve().as_uri()})")
            break
    lines.append(f"mlflow run: {result['run_id']}  ({browse_hint(uri)})")
    return "\n".join(lines)


def browse_hint(uri: str) -> str:
    """How to look at a store: a server is opened, a local store is served by `mlflow ui`."""
    if uri.startswith(("http://", "https://")):
        return f"browse: {uri}"
    local = Path(uri.removeprefix("sqlite:///"))
    if uri.startswith("sqlite:///") and local.parent == Path.cwd():
        uri = f"sqlite:///{local.name}"  # as `make ui` serves it from the project root
    return f"browse: mlflow ui --backend-store-uri {uri}"
