#!/usr/bin/env bash
# KNOWN BUG (found by the NTP clock's engineer, not fixed here: not this
# task's code): layering.sh looks for "<clock>_clock::now" only, so a clock
# read through an alias passes it. actors/stun/stun_client.cpp does
# "using clock_type = std::chrono::steady_clock; ... clock_type::now()"
# and so reads a real clock in actors/, which a simulation on virtual time
# cannot drive (the STUN rtt). This check names the clock types themselves
# and fails until that read goes through the actor clock (self->clock()).
# Registered in CTest as layout_known_bug_clock_alias, DISABLED so that the
# quick suite stays green; run it by hand: known_bug_clock_alias.sh <root>.
set -uo pipefail
root=${1:?usage: known_bug_clock_alias.sh <source root>}
cd "$root" || exit 1
hits=$(grep -rlE 'std::chrono::(system|steady|high_resolution)_clock' actors messages node \
         | grep -v '^actors/common/clock.cpp$' | sort || true)
[ -z "$hits" ] && { echo "PASS: no clock type named outside actors/common/clock.cpp"; exit 0; }
echo "FAIL: a clock type is named outside actors/common/clock.cpp: $hits"
exit 1
