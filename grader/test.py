#!/usr/bin/env python3
"""make test: every check the project runs, closing with 'N passed, N failed'."""
import subprocess
import sys

def main():
    passed = failed = 0
    # The test guest, natively on OpenSBI: the reference every lab is held to.
    r = subprocess.run(["make", "-s", "guest-native", "SMP=4"], stdin=subprocess.DEVNULL,
                       capture_output=True, text=True, timeout=60)
    ok = r.returncode == 0 and "guest: all checks passed" in r.stdout
    print(("PASS" if ok else "FAIL") + ": test guest on native OpenSBI")
    if ok:
        passed += 1
    else:
        failed += 1
        print(r.stdout[-2000:], r.stderr[-2000:])
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0

if __name__ == "__main__":
    sys.exit(main())
