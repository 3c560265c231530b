# expect.sh - sourced by the lab tests: the lab's expected names (the
# original's constants, from `lab.sh env`) in p2pd's words, and a field reader
# for the key=value lines p2pd's programs print.
nat_name() {
  case $1 in
    OPEN_INTERNET) echo open_internet;; SYMMETRIC_UDP_FIREWALL) echo udp_firewall;;
    FULL_CONE) echo full_cone;; RESTRICT_NAT) echo restricted;;
    RESTRICT_PORT_NAT) echo port_restricted;; SYMMETRIC_NAT) echo symmetric;;
    BLOCKED_NAT) echo blocked;; *) echo "?$1";;
  esac
}
delta_name() {
  case $1 in
    NA_DELTA) echo not_applicable;; EQUAL_DELTA) echo equal;; PRESERV_DELTA) echo preserving;;
    INDEPENDENT_DELTA) echo independent;; DEPENDENT_DELTA) echo dependent;;
    RANDOM_DELTA) echo random;; *) echo "?$1";;
  esac
}
# field <name> <text>: the value of the first "name=value" in text
field() { sed -n "s/.*\\b$1=\\([^ ]*\\).*/\\1/p" <<< "$2" | head -n1; }
