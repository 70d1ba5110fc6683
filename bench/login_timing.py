"""How long a failed sign-in takes for a known and an unknown address (embedded SQLite,
the app's own login form through Flask's test client; each attempt on its own account or
address and from its own client address, so no throttle answers instead).

Equal times mean the answer does not tell whether an address has an account. Prints the
median and p90 of the wall time and the median CPU time of the process (steady on a busy
machine) in milliseconds for each; last line: one JSON object.

    python bench/login_timing.py [--attempts 40]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import tempfile
import time

parser = argparse.ArgumentParser()
parser.add_argument("--attempts", type=int, default=40)
args = parser.parse_args()

os.environ["STATUSPAGE_DATA_DIR"] = tempfile.mkdtemp(prefix="login-bench-")
from flask_migrate import upgrade  # noqa: E402

from statuspage import create_app  # noqa: E402
from statuspage.extensions import db  # noqa: E402
from statuspage.models import Role, User  # noqa: E402

app = create_app({"TESTING": True})
with app.app_context():
    upgrade(revision="heads")
    for n in range(args.attempts):
        user = User(email=f"known{n}@example.com", role=Role.ADMIN)
        user.set_password("the right passphrase for this bench")
        db.session.add(user)
    db.session.commit()


def attempt(email: str, n: int) -> tuple[float, float]:
    email = email.format(n=n)
    client = app.test_client()
    address = {"REMOTE_ADDR": f"10.{n // 250}.{n % 250}.{7 if 'known' in email else 9}"}
    page = client.get("/admin/login", environ_base=address).get_data(as_text=True)
    token = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', page).group(1)
    started, cpu = time.perf_counter(), time.process_time()
    answer = client.post(
        "/admin/login",
        data={"csrf_token": token, "email": email, "password": "a wrong password"},
        environ_base=address,
    )
    elapsed = (time.perf_counter() - started) * 1000, (time.process_time() - cpu) * 1000
    assert answer.status_code == 401, answer.status_code
    return elapsed


results = {}
for label, email in (("known", "known{n}@example.com"), ("unknown", "nobody{n}@example.com")):
    runs = [attempt(email, n) for n in range(args.attempts)]
    times = sorted(wall for wall, _ in runs)
    results[label] = {
        "p50_ms": round(statistics.median(times), 1),
        "p90_ms": round(times[int(len(times) * 0.9) - 1], 1),
        "cpu_p50_ms": round(statistics.median(cpu for _, cpu in runs), 1),
    }
    r = results[label]
    print(
        f"{label:8} p50 {r['p50_ms']:7.1f} ms  p90 {r['p90_ms']:7.1f} ms"
        f"  cpu p50 {r['cpu_p50_ms']:7.1f} ms"
    )
print(json.dumps(results))
