#!/usr/bin/env bash
# Mutation testing with mutmut (not part of CI: it takes minutes per module).
#
#   tools/mutation.sh MODULE.py... [-- TEST_PATH_OR_PYTEST_ARG...]
#
#   tools/mutation.sh lib_scene/palette.py -- tests/test_palette.py
#   tools/mutation.sh lib_scene/splits.py -- tests/test_splits.py tests/test_quantize.py
#   tools/mutation.sh lib_scene/plan.py lib_scene/regions.py -- tests/test_plan.py tests/test_regions.py
#
# Mutates only the named modules and runs only the named tests against each mutant (default: the
# whole suite less the browser, integration and Blender tests; name the quick tests that exercise the
# modules). Works in a copy of the tree, .mutation/ (the tracked and untracked-but-not-ignored files),
# with pyproject.toml's [tool.mutmut] there narrowed to this run, from its own venv .venv-mutation
# (current numpy/Pillow/OpenEXR + mutmut, tests/requirements-mutation.txt); the CI venvs are never
# touched. Prints mutmut's per-mutant results and a summary line with the kill rate:
#   killed / (killed + survived + timeout + suspicious), "no tests" mutants counted as survivors.
# Afterwards `cd .mutation && ../.venv-mutation/bin/mutmut show NAME` shows one surviving mutant.
# Environment: MUTATION_JOBS (parallel children, default: CPU count), PYTHON (the venv's interpreter).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

modules=()
tests=()
while [ $# -gt 0 ]; do
  case $1 in
    --) shift; tests=("$@"); break ;;
    -h|--help) sed -n '2,20p' "$0"; exit 0 ;;
    *) modules+=("$1"); shift ;;
  esac
done
if [ ${#modules[@]} -eq 0 ]; then
  echo "usage: tools/mutation.sh MODULE.py... [-- TEST...]  (see the top of this file)" >&2
  exit 2
fi
for m in "${modules[@]}"; do
  case $m in lib_scene/*.py) ;; *) echo "mutation.sh: $m: give modules of lib_scene/ as lib_scene/NAME.py" >&2; exit 2 ;; esac
  [ -f "$m" ] || { echo "mutation.sh: no such module: $m" >&2; exit 2; }
done
[ ${#tests[@]} -gt 0 ] || tests=(tests/)

# the venv (made once; pip only installs what is missing)
pick() { for p in "$@"; do if [ -n "$p" ] && "$p" -c 'import venv' >/dev/null 2>&1; then echo "$p"; return; fi; done; }
PYENV_VERSIONS="${PYENV_ROOT:-$HOME/.pyenv}/versions"
PY=${PYTHON:-$(pick python3.11 "$(ls -d "$PYENV_VERSIONS"/3.11*/bin/python3.11 2>/dev/null | tail -n1)" python3.12 python3)}
[ -x .venv-mutation/bin/python ] || "$PY" -m venv .venv-mutation
.venv-mutation/bin/python -m pip install -q --disable-pip-version-check -r tests/requirements-mutation.txt

# the copy: this tree as it is now (uncommitted edits included), nothing ignored
rm -rf .mutation
mkdir .mutation
git ls-files -z --cached --others --exclude-standard | while IFS= read -r -d '' f; do
  [ -e "$f" ] && printf '%s\0' "$f"
done | tar --null -T - -cf - | tar -xf - -C .mutation

# narrow [tool.mutmut] to this run (the two marked lines of pyproject.toml)
.venv-mutation/bin/python - .mutation/pyproject.toml "${#modules[@]}" "${modules[@]}" "${tests[@]}" <<'EOF'
import json, re, sys
path, n = sys.argv[1], int(sys.argv[2])
modules, tests = sys.argv[3:3 + n], sys.argv[3 + n:]
text = open(path, encoding="utf-8").read()
for key, values in (("only_mutate", modules), ("pytest_add_cli_args_test_selection", tests)):
    text, count = re.subn(rf"(?m)^{key} = .*$", f"{key} = {json.dumps(values)}", text)
    if count != 1:
        sys.exit(f"mutation.sh: pyproject.toml's [tool.mutmut] has no single {key} line")
open(path, "w", encoding="utf-8").write(text)
EOF

cd .mutation
echo "== mutmut $("$ROOT"/.venv-mutation/bin/python -c 'import importlib.metadata as m; print(m.version("mutmut"))'): ${modules[*]} against ${tests[*]}"
set +e
"$ROOT"/.venv-mutation/bin/mutmut run --max-children "${MUTATION_JOBS:-$(nproc)}"
rc=$?
set -e
"$ROOT"/.venv-mutation/bin/mutmut results --all true > results.txt 2>&1 || true
"$ROOT"/.venv-mutation/bin/python - results.txt <<'EOF'
import collections, re, sys
counts = collections.Counter()
for line in open(sys.argv[1], encoding="utf-8"):
    m = re.match(r"\s*(\S+__mutmut_\d+): (.+?)\s*$", line)
    if m:
        counts[m.group(2)] += 1
killed = counts["killed"]
judged = killed + counts["survived"] + counts["no tests"] + counts["timeout"] + counts["suspicious"]
print("== mutants: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
if judged:
    print(f"== kill rate: {killed}/{judged} = {100 * killed / judged:.1f}%")
else:
    print("== kill rate: no mutants judged (see .mutation/results.txt)")
EOF
exit "$rc"
