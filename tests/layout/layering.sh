#!/usr/bin/env bash
# layering.sh <source root> - CTest "layout_layering": the layering rules of
# docs/design-notes.md ("Layers"), checked on the sources:
#  - net/ never includes CAF, proto/ or a layer above it;
#  - actors/, messages/ and node/ never include the facade (api/);
#  - messages/ includes nothing of actors/ but timeouts.hpp, a leaf;
#  - no header outside a detail/ folder includes one (detail/ is not installed);
#  - only the worker procedures in actors/ block on a scoped_actor;
#  - actors/ and node/ start threads only in run_blocking;
#  - nothing below node/ includes it, and nothing of the library includes rest/;
#  - actors/ and node/ read the system clock in one place (actors/common/clock.cpp), call
#    it for wall time only in the OS stack, and draw from random_device only in the OS
#    stack and the MQTT channel (a real transport); the seam's code below resolves no
#    names around its stack either;
#  - node/, the interface actor, its STUN probes and the punch reach the OS only through
#    their network stack (actors/stack/): no pipe spawned or opened directly,
#    no interface listing or netlink, no socket, no random_device;
#  - sim/ reads no clock and no random_device, and sim/nat/ and sim/net/ include no CAF;
#  - every .cpp in a library folder is listed in a CMakeLists.txt.
set -uo pipefail
root=${1:?usage: layering.sh <source root>}
cd "$root" || exit 1
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }

hits=$(grep -rlE '#include [<"](caf/|p2pd/(actors|messages|api|proto)/)' net || true)
[ -z "$hits" ] || fail "net/ includes CAF or a layer above it: $hits"

hits=$(grep -rl '#include "p2pd/node/' actors messages net proto || true)
[ -z "$hits" ] || fail "a layer below node/ includes it: $hits"

hits=$(grep -rl '#include "p2pd/api/' actors messages net proto node || true)
[ -z "$hits" ] || fail "a layer below api/ includes the facade: $hits"

# rest/ (the REST API) sits on the facade: nothing of the library includes it.
hits=$(grep -rl '#include "p2pd/rest/' actors messages net proto node api || true)
[ -z "$hits" ] || fail "the library includes the REST API (rest/ is above it): $hits"

# messages/ is the vocabulary below actors/; it may take the defaults of
# actors/common/timeouts.hpp (net_conf), which therefore includes nothing
# of p2pd's.
hits=$(grep -rh '#include "p2pd/actors/' messages | grep -v 'actors/common/timeouts.hpp' || true)
[ -z "$hits" ] || fail "messages/ includes actors/ beyond timeouts.hpp: $hits"
! grep -q '#include "p2pd/' actors/common/timeouts.hpp \
  || fail "actors/common/timeouts.hpp includes p2pd headers (it must stay a leaf)"

# The seam for the simulation (actors/stack/net_stack.hpp): what node/ and
# the interface actor start opens sockets, lists interfaces, resolves names
# and draws seeds through the stack it was given, so that a simulated stack replaces them
# all. Comments are left out; `stack->spawn_pipe(` and `open_pipe_on(` are
# the ways through the stack.
seam='node actors/interface actors/stun/nat_probe.cpp actors/stun/external_address.cpp actors/stun/stun_server.cpp actors/punch'
hits=$(grep -rnE '#include "p2pd/(actors/pipe/spawn_pipe|net/iface/detail/netlink|net/sock/socket)\.hpp"' $seam || true)
[ -z "$hits" ] || fail "the seam's code includes an OS entry point (use its net_stack): $hits"
# The STUN probers include spawn_pipe.hpp for open_timeout() only: they are
# checked for calls.
probers='actors/stun/nat_prober.cpp actors/stun/external_prober.cpp actors/stun/detail/probe_steps.hpp'
hits=$(grep -rnE '(^|[^>.[:alnum:]_])spawn_pipe\(|(^|[^[:alnum:]_])open_pipe\(|spawn_broker|list_interfaces\(|netlink_dump|open_bound_socket|open_listener|random_device|resolve_hosts?\(|resolve_servers\(|getaddrinfo' $seam $probers \
         | grep -vE '^[^:]+:[0-9]+:[[:space:]]*//' || true)
[ -z "$hits" ] || fail "the seam's code reaches the OS around its net_stack: $hits"

# Blocking procedures, each run by run_blocking or from the facade, never on
# an actor's thread (see their headers).
allowed='actors/pipe/spawn_pipe.hpp actors/pipe/spawn_pipe.cpp actors/stack/open_pipe_on.hpp actors/stack/open_pipe_on.cpp actors/stun/external_address.cpp actors/stun/nat_probe.cpp'
for f in $(grep -rl 'scoped_actor' actors | sort); do
  case " $allowed " in *" $f "*) ;; *) fail "$f blocks on a scoped_actor (actors/ is event-based)";; esac
done

# detail/ folders hold a component's internals and are not installed: no
# header outside one includes one (tests/install checks the installed set).
for f in $(find net proto messages actors node api rest -name '*.hpp' -not -path '*/detail/*' | sort) \
         p2pd.hpp pipes.hpp interfaces.hpp signal.hpp node.hpp; do
  [ -f "$f" ] || continue
  hits=$(grep -o '#include "p2pd/[^"]*/detail/[^"]*"' "$f" || true)
  [ -z "$hits" ] || fail "$f is public but includes internals: $hits"
done

# Blocking work runs through run_blocking, whose executor a simulation
# replaces: no thread or detached actor of its own elsewhere in actors/.
for f in $(grep -rlE 'spawn<caf::detached>|std::thread[^:]|std::async' actors node | sort); do
  [ "$f" = actors/common/run_blocking.cpp ] || fail "$f starts a thread (use run_blocking)"
done

# Wall time: the OS stack's unix_ms()/unix_ns() call the system clock (and
# clock.hpp's functions may be a spec's default, not called); everything
# else asks its stack or its spec's clock, which a simulation sets.
for f in $(grep -rnE 'system_clock_(ms|ns)\(' actors messages node | grep -vE '^[^:]+:[0-9]+:[[:space:]]*//' \
           | cut -d: -f1 | sort -u); do
  case "$f" in
    actors/common/clock.cpp | actors/common/clock.hpp | actors/stack/net_stack.cpp) ;;
    *) fail "$f reads the wall clock (use its stack's unix_ms() or its spec's clock)";;
  esac
done

# Non-secret randomness comes from the stack's rng_seed(), which a simulation
# makes a function of its seed. random_device stays only in the OS stack and
# in the real transports a simulation does not run: the MQTT channel (paho
# owns its sockets and threads; its client id and reconnect jitter), whose
# spec has no stack to seed from.
for f in $(grep -rn 'random_device' actors messages node | grep -vE '^[^:]+:[0-9]+:[[:space:]]*//' \
           | cut -d: -f1 | sort -u); do
  case "$f" in
    actors/stack/net_stack.cpp | actors/signal/mqtt/mqtt_channel.cpp \
      | actors/signal/mqtt/detail/mqtt_channel_state.hpp) ;;
    *) fail "$f draws from random_device (seed from its stack's rng_seed())";;
  esac
done

# An alias (`using clock_type = std::chrono::steady_clock`) counts too: its
# now() is a direct read all the same.
for f in $(grep -rlE '(system|steady|high_resolution)_clock::now|std::chrono::(system|steady|high_resolution)_clock' actors messages node | sort); do
  [ "$f" = actors/common/clock.cpp ] || fail "$f reads a clock directly (use the actor clock or a spec's clock)"
done

# sim/ (the simulated network) replays a run from its seed: nothing in it
# reads a clock or draws from random_device (comments left out), and its NAT
# tables and network (sim/nat/, sim/net/) are pure: no CAF (the world that
# runs them on actors comes above them).
if [ -d sim ]; then
  hits=$(grep -rnE '_clock::now|random_device' sim | grep -vE '^[^:]+:[0-9]+:[[:space:]]*(//|///)' || true)
  [ -z "$hits" ] || fail "sim/ reads a clock or random_device (time and seeds are given): $hits"
  for d in sim/nat sim/net; do
    [ -d "$d" ] || continue
    hits=$(grep -rlE '#include [<"](caf/|p2pd/(actors|messages|api|proto)/)' "$d" || true)
    [ -z "$hits" ] || fail "$d/ includes CAF or the actors (it is pure): $hits"
  done
fi

for dir in net actors messages node api proto rest sim; do
  for f in $(find "$dir" -name '*.cpp' | sort); do
    base=${f#"$dir"/}
    grep -rqF "$base" "$dir"/CMakeLists.txt || fail "$f is in no CMakeLists.txt"
  done
done

[ "$fails" = 0 ] && echo "PASS: layering holds" || { echo "FAIL: $fails rule(s) broken"; exit 1; }
