#!/usr/bin/env bash
# Whole-process benchmark of osmo against its floor and its peers (DESIGN §8).
#
#   bash bench/run.sh            # build, generate the databases, measure, write bench/RESULTS.md
#   KEEP=1 bash bench/run.sh     # reuse databases from an earlier run
#
# Not part of `cargo test` or CI.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
root=$PWD
work="$root/bench/work"
mkdir -p "$work"

need=()
for tool in hyperfine:hyperfine sqlite3:sqlite3 htpasswd:apache2-utils jq:jq /usr/bin/time:time; do
    command -v "${tool%%:*}" >/dev/null || need+=("${tool#*:}")
done
if ((${#need[@]})); then
    echo "== installing ${need[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi

echo "== building (release)"
cargo build --release --quiet --bin osmo --example gen_db
osmo="$root/target/release/osmo"
gen="$root/target/release/examples/gen_db"

# Runs `gen_db` unless KEEP=1 and the database is there; prints the measured user.
generate() { # NAME USERS TOKENS [AUDIT HEAVY RARE]
    local db="$work/$1.db"
    if [[ "${KEEP:-}" != 1 || ! -f "$db" || ! -f "$work/$1.user" ]]; then
        rm -f "$db" "$db-wal" "$db-shm"
        echo "== generating $1: $2 users, $3 tokens ${4:+, $4 audit events, $5 expired tokens of heavy, $6 rare}" >&2
        local started=$SECONDS
        "$gen" "$db" "$2" "$3" "$work/$1.token" "${@:4}" >"$work/$1.user"
        echo "   took $((SECONDS - started)) s" >&2
    fi
    cat "$work/$1.user"
}
big_user=$(generate big 10000 1000000)
small_user=$(generate small 10 9)
# For the lines where cost must grow with the answer (DESIGN §8): listings of 1k and
# 100k tokens beside big's 1M, and 100,000 users with 1,000,000 audit events.
generate tok1k 100 999 >/dev/null
generate tok100k 1000 99999 >/dev/null
generate wide 100000 0 1000000 100000 50 >/dev/null
big="$work/big.db"
small="$work/small.db"
chmod 600 "$work"/*.token
ls -l "$big" "$small" | awk '{print "   " $5 " bytes  " $9}'

# Stay out of any login session and token of the person running this.
unset OSMO_TOKEN OSMO_TOKEN_FILE OSMO_DB
export OSMO_CONFIG_FILE_DIR="$work/config"

results="$work/results.tsv"
: >"$results"

# measure LABEL FLOOR_LABEL [hyperfine options...] -- COMMAND...
measure() {
    local label=$1 floor=$2
    shift 2
    local opts=()
    while [[ $1 != -- ]]; do opts+=("$1"); shift; done
    shift
    local json="$work/hf.json"
    # -N runs the command without a shell; it splits the string as a shell would.
    hyperfine -N --style none --warmup "${warmup:-5}" --runs "${runs:-${RUNS:-100}}" "${opts[@]}" \
        --export-json "$json" -- "$(printf '%q ' "$@")" >/dev/null
    local median min max rss
    read -r median min max < <(jq -r '.results[0] | "\(.median) \(.min) \(.max)"' "$json")
    /usr/bin/time -o "$work/time.out" -f '%M' "$@" >/dev/null 2>&1 || true
    rss=$(tail -1 "$work/time.out")
    printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$label" "${floor:--}" "$median" "$min" "$max" "$rss" >>"$results"
    printf '   %-44s %8.2f ms\n' "$label" "$(jq -n "$median * 1000")"
}

q_list="SELECT t.name, t.description, t.expires_at, group_concat(r.role, ', ') FROM tokens t LEFT JOIN token_roles r ON r.token_id = t.id WHERE t.user_id = '$big_user' GROUP BY t.id ORDER BY t.name"
q_user="SELECT u.created_at, u.created_by, r.role, r.assigned_by, r.assigned_at FROM users u JOIN user_roles r ON r.user_id = u.id WHERE u.id = '$big_user' ORDER BY r.role"
q_roles="SELECT r.role, r.assigned_by, r.assigned_at FROM tokens t JOIN token_roles r ON r.token_id = t.id WHERE t.user_id = '$big_user' AND t.name = 'measured' ORDER BY r.role"

echo "== measuring (median of ${RUNS:-100} runs each)"
measure "process floor: true" "" -- /bin/true
measure "osmo --version" "process floor: true" -- "$osmo" --version
measure "sqlite3: token list query" "" -- sqlite3 -readonly "$big" "$q_list"
measure "osmo token list -u U" "sqlite3: token list query" -- "$osmo" --db "$big" token list -u "$big_user"
measure "sqlite3: user get query" "" -- sqlite3 -readonly "$big" "$q_user"
measure "osmo user get U" "sqlite3: user get query" -- "$osmo" --db "$big" user get "$big_user"
measure "sqlite3: token roles query" "" -- sqlite3 -readonly "$big" "$q_roles"
measure "osmo token roles measured -u U" "sqlite3: token roles query" -- "$osmo" --db "$big" token roles measured -u "$big_user"
measure "osmo token verify (10 tokens)" "" -- "$osmo" --db "$small" token verify --token-file "$work/small.token"
measure "osmo token verify (1M tokens)" "osmo token verify (10 tokens)" -- "$osmo" --db "$big" token verify --token-file "$work/big.token"
# Shell completion asks on every TAB: values from the 1M-token database, read only.
measure "osmo completion: token names (1M tokens)" "osmo --version" \
    -- env _OSMO_COMPLETE=bash _CLAP_COMPLETE_INDEX=5 "$osmo" -- osmo --db "$big" token delete ''
measure "osmo completion: user ids (10k users)" "osmo --version" \
    -- env _OSMO_COMPLETE=bash _CLAP_COMPLETE_INDEX=5 "$osmo" -- osmo --db "$big" user get user05
# Each timed run creates what its --prepare deleted; make the first delete find something.
"$osmo" --db "$big" token set bench-set -u "$big_user" >/dev/null
measure "osmo token set" "" --prepare "$osmo --db $big token delete bench-set -u $big_user" \
    -- "$osmo" --db "$big" token set bench-set -u "$big_user"
"$osmo" --db "$big" token delete bench-set -u "$big_user" >/dev/null
"$osmo" --db "$big" user create bench-new -r osmo-user >/dev/null
measure "osmo user create" "" --prepare "$osmo --db $big user delete bench-new -f" \
    -- "$osmo" --db "$big" user create bench-new -r osmo-user
"$osmo" --db "$big" user delete bench-new -f >/dev/null
# 60,000 repeated -r values: de-duplication must stay linear (it took 4.5 s when it was not).
# The arguments go in a script (one string of them would pass the kernel's limit); the
# measured time includes starting sh, about the process floor.
many="$work/many-roles.sh"
{
    printf 'exec %q --db %q user update bench-many -a' "$osmo" "$small"
    for ((i = 0; i < 60000; i++)); do printf ' osmo-user'; done
    echo
} >"$many"
"$osmo" --db "$small" user delete bench-many -f >/dev/null 2>&1 || true
"$osmo" --db "$small" user create bench-many -r osmo-user >/dev/null
measure "osmo user update U -a ROLE x60,000" "" -- sh "$many"
"$osmo" --db "$small" user delete bench-many -f >/dev/null

# The whole-file commands on the 1M-token database, beside the sqlite3 shell doing the same:
# integrity and foreign-key checks, and an online backup. A few runs each: they take seconds.
backup="$work/backup.db"
env_slow() { runs="${SLOW_RUNS:-3}" warmup=1 measure "$@"; }
env_slow "sqlite3: integrity_check + foreign_key_check" "" \
    -- sqlite3 -readonly "$big" "PRAGMA integrity_check; PRAGMA foreign_key_check;"
env_slow "osmo db check" "sqlite3: integrity_check + foreign_key_check" \
    -- "$osmo" --db "$big" db check
env_slow "sqlite3: .backup" "" --prepare "rm -f $backup" \
    -- sqlite3 -readonly "$big" ".backup $backup"
env_slow "osmo db backup" "sqlite3: .backup" --prepare "rm -f $backup" \
    -- "$osmo" --db "$big" db backup "$backup"
rm -f "$backup"

# token scan: a 100 MiB tree of 1,000 text files, `osmo_` on one line in a hundred and a
# real token in every hundredth file, beside grep looking for the token shape (warm cache).
tree="$work/scan-tree"
if [[ "${KEEP:-}" != 1 || ! -d "$tree" ]]; then
    rm -rf "$tree"
    python3 - "$tree" "$(cat "$work/small.token")" <<'PY'
import os, random, sys
root, token = sys.argv[1], sys.argv[2]
rng = random.Random(7)
words = ["alpha", "beta", "gamma", "delta", "token", "secret", "config", "x = 1;"]
for i in range(1000):
    folder = os.path.join(root, f"d{i // 100:02}")
    os.makedirs(folder, exist_ok=True)
    lines, size = [], 0
    while size < 100 * 1024:
        line = " ".join(rng.choice(words) for _ in range(12))
        if rng.random() < 0.01:
            line += " osmo_config"
        lines.append(line)
        size += len(line) + 1
    if i % 100 == 0:
        lines[len(lines) // 2] += " " + token
    with open(os.path.join(folder, f"f{i:04}.txt"), "w") as f:
        f.write("\n".join(lines) + "\n")
PY
fi
du -sh "$tree" | awk '{print "   scan tree: " $1}'
measure "grep -rEo token shape (100 MiB tree)" "" \
    -- grep -rEo 'osmo_[A-Za-z0-9]{12}_[A-Za-z0-9]{38}' "$tree"
measure "osmo token scan (100 MiB tree)" "grep -rEo token shape (100 MiB tree)" -i \
    -- "$osmo" --db "$small" token scan "$tree"

# Listings that grow with the answer: whole-process time and peak memory beside the sqlite3
# shell printing the same rows as JSON (roles aggregated), and the first row through head.
now_sql="strftime('%s', 'now')"
q_tokens="SELECT t.public_id AS id, t.name AS token_name, t.user_id AS user_name, t.description,
    CASE WHEN t.expires_at > $now_sql THEN 'active' ELSE 'expired' END AS status,
    t.expires_at > $now_sql AS active,
    (SELECT json_group_array(role) FROM (SELECT role FROM token_roles WHERE token_id = t.id ORDER BY role)) AS roles,
    t.created_at, t.expires_at, t.last_used_at FROM tokens t ORDER BY t.user_id, t.name"
q_tokens=${q_tokens//$'\n'/ } # one line: hyperfine -N reads no $'...' quoting
for size in tok1k tok100k big; do
    db="$work/$size.db"
    label="${size#tok}"
    [[ $size == big ]] && label=1M
    env_slow "sqlite3 -json: $label tokens" "" -- sqlite3 -json -readonly "$db" "$q_tokens"
    env_slow "osmo token list --all -t json: $label" "sqlite3 -json: $label tokens" \
        -- "$osmo" --db "$db" token list --all -t json
    env_slow "osmo token list --all: $label" "sqlite3 -json: $label tokens" \
        -- "$osmo" --db "$db" token list --all
    measure "osmo token list --all | head -1: $label" "" \
        -- sh -c "$osmo --db $db token list --all | head -1"
done
wide="$work/wide.db"
q_audit="SELECT at, actor, action, target, outcome FROM audit ORDER BY id DESC LIMIT 1000000"
env_slow "sqlite3 -json: 1M audit events" "" -- sqlite3 -json -readonly "$wide" "$q_audit"
env_slow "osmo audit list -c 1000000 -t json" "sqlite3 -json: 1M audit events" \
    -- "$osmo" --db "$wide" audit list -c 1000000 -t json
measure "osmo audit list -u admin (1M events)" "" -- "$osmo" --db "$wide" audit list -u admin
measure "osmo audit list -u user00005 (1M events)" "" -- "$osmo" --db "$wide" audit list -u user00005
q_users="SELECT u.id, u.created_at, u.created_by,
    (SELECT json_group_array(role) FROM (SELECT role FROM user_roles WHERE user_id = u.id ORDER BY role)) AS roles
    FROM users u ORDER BY u.id LIMIT 100000"
q_users=${q_users//$'\n'/ }
env_slow "sqlite3 -json: 100k users" "" -- sqlite3 -json -readonly "$wide" "$q_users"
env_slow "osmo user list -c 100000 -t json" "sqlite3 -json: 100k users" \
    -- "$osmo" --db "$wide" user list -c 100000 -t json
measure "osmo user list -r osmo-admin (1 of 100k)" "" -- "$osmo" --db "$wide" user list -r osmo-admin
measure "osmo user list -r rare (50 of 100k)" "" -- "$osmo" --db "$wide" user list -r rare
measure "osmo user list -p user0001 (10 of 100k)" "" -- "$osmo" --db "$wide" user list -p user0001
"$osmo" --db "$wide" token set bench-set -u heavy >/dev/null
measure "osmo token set (owner with 100k expired)" "" \
    --prepare "$osmo --db $wide token delete bench-set -u heavy" \
    -- "$osmo" --db "$wide" token set bench-set -u heavy
"$osmo" --db "$wide" token delete bench-set -u heavy >/dev/null

# PostgreSQL (DESIGN §10): a local server over its Unix socket (durable: fsync on), beside
# psql running the same queries. The 1M-token database moves there with db copy, and back.
if [[ "${SKIP_PG:-}" != 1 ]]; then
    compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || {
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
    }
    pg_dir=$(OSMO_PG_DURABLE=1 "$root/.ci/postgres")
    trap '"$root/.ci/postgres" stop "$pg_dir"' EXIT
    pg="postgresql://osmo@/postgres?host=$pg_dir"
    psql_q() { printf 'psql -X -q -A -t -d %s -c %q' "$pg" "$1"; }
    # One run each, timed with its peak memory by /usr/bin/time: a copy takes a while.
    once() { # LABEL COMMAND...
        local label=$1 secs rss
        shift
        /usr/bin/time -o "$work/time.out" -f '%e %M' "$@" >/dev/null
        read -r secs rss < <(tail -1 "$work/time.out")
        printf '%s\t-\t%s\t%s\t%s\t%s\n' "$label" "$secs" "$secs" "$secs" "$rss" >>"$results"
        printf '   %-44s %8.2f s\n' "$label" "$secs"
    }
    once "osmo db copy --to postgresql (1M tokens)" "$osmo" --db "$big" db copy --to "$pg"
    back="$work/back.db"
    rm -f "$back" "$back-wal" "$back-shm"
    once "osmo db copy postgresql --to file (1M tokens)" "$osmo" --db "$pg" db copy --to "$back"
    rm -f "$back" "$back-wal" "$back-shm"
    public=$(cut -c6-17 "$work/big.token")
    pq_verify="SELECT id, name, user_id, secret_hash, expires_at, last_used_at FROM tokens WHERE public_id = '$public'"
    pq_list="SELECT t.name, t.description, t.expires_at, string_agg(r.role, ', ') FROM tokens t LEFT JOIN token_roles r ON r.token_id = t.id WHERE t.user_id = '$big_user' GROUP BY t.id ORDER BY t.name"
    measure "psql: verify query" "" -- psql -X -q -A -t -d "$pg" -c "$pq_verify"
    measure "osmo token verify (PostgreSQL, 1M tokens)" "psql: verify query" \
        -- "$osmo" --db "$pg" token verify --token-file "$work/big.token"
    measure "psql: token list query" "" -- psql -X -q -A -t -d "$pg" -c "$pq_list"
    measure "osmo token list -u U (PostgreSQL)" "psql: token list query" \
        -- "$osmo" --db "$pg" token list -u "$big_user"
    measure "psql: user get query" "" -- psql -X -q -A -t -d "$pg" -c "$q_user"
    measure "osmo user get U (PostgreSQL)" "psql: user get query" \
        -- "$osmo" --db "$pg" user get "$big_user"
    measure "psql: token roles query" "" -- psql -X -q -A -t -d "$pg" -c "$q_roles"
    measure "osmo token roles measured -u U (PostgreSQL)" "psql: token roles query" \
        -- "$osmo" --db "$pg" token roles measured -u "$big_user"
    # The inserts of a token set, in one transaction that takes the writers' lock first.
    pq_set="BEGIN; SELECT 1 FROM osmo_schema FOR UPDATE;
        WITH t AS (INSERT INTO tokens (public_id, user_id, name, description, secret_hash, created_at, created_by, expires_at)
                   VALUES ('psqlbench000', '$big_user', 'bench-psql', '', 'hash', 0, 'admin', 4102444800) RETURNING id)
        INSERT INTO token_roles (token_id, user_id, role, assigned_by, assigned_at)
            SELECT t.id, '$big_user', 'osmo-user', 'admin', 0 FROM t;
        INSERT INTO audit (at, actor, action, target, subject, outcome)
            VALUES (0, 'admin', 'token.create', '$big_user/bench-psql', '$big_user', 'ok'); COMMIT;"
    pq_set=${pq_set//$'\n'/ }
    pq_unset="DELETE FROM tokens WHERE name IN ('bench-psql', 'bench-set') AND user_id = '$big_user'"
    measure "psql: token set inserts" "" --prepare "$(psql_q "$pq_unset")" \
        -- psql -X -q -A -t -d "$pg" -c "$pq_set"
    measure "osmo token set (PostgreSQL)" "psql: token set inserts" --prepare "$(psql_q "$pq_unset")" \
        -- "$osmo" --db "$pg" token set bench-set -u "$big_user"
fi

# htpasswd with bcrypt and 10,000 entries: what a lab might use instead.
pw="$work/htpasswd"
line=$(htpasswd -nbB template secret-password)
hash=${line#template:}
awk -v h="$hash" 'BEGIN { for (i = 0; i < 10000; i++) printf "user%05d:%s\n", i, h }' >"$pw"
htpasswd -bB "$pw" bench-new secret-password 2>/dev/null
measure "htpasswd -B add a user (10k entries)" "" --prepare "htpasswd -D $pw bench-new" \
    -- htpasswd -bB "$pw" bench-new secret-password
measure "htpasswd verify a user (10k entries)" "" -- htpasswd -vb "$pw" user05000 secret-password
# Peers for the write and verify rows.
peer_add="htpasswd -B add a user (10k entries)"
peer_verify="htpasswd verify a user (10k entries)"

echo
table=$(
    printf '| command | median | min – max | ratio | to | peak RSS |\n'
    printf '|---|---:|---:|---:|---|---:|\n'
    while IFS=$'\t' read -r label floor median min max rss; do
        case $label in
            "osmo token set" | "osmo user create") floor=$peer_add ;;
            "osmo token verify (10 tokens)") floor=$peer_verify ;;
        esac
        ratio=""
        if [[ $floor != - ]]; then
            base=$(awk -F'\t' -v f="$floor" '$1 == f { print $3 }' "$results")
            ratio=$(jq -n "$median / $base * 100 | round / 100")x
        fi
        printf '| %s | %.2f ms | %.2f – %.2f ms | %s | %s | %.1f MiB |\n' "$label" \
            "$(jq -n "$median * 1000")" "$(jq -n "$min * 1000")" "$(jq -n "$max * 1000")" \
            "$ratio" "${floor#-}" "$(jq -n "$rss / 1024")"
    done <"$results"
)
echo "$table"

cpu=$(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo)
{
    echo "# Benchmark results"
    echo
    echo "Made by \`bash bench/run.sh\` on $(date -u '+%Y-%m-%d %H:%M UTC'): $(nproc) cores ($cpu),"
    echo "$(free -g | awk '/Mem:/ { print $2 }') GiB, $(uname -sr), osmo $("$osmo" --version | cut -d' ' -f2)."
    echo "Whole-process times from hyperfine (\`-N\`, ${RUNS:-100} runs after 5 warm-ups); peak RSS"
    echo "from \`/usr/bin/time -f %M\`. \`big\` has 10,000 users and 1,000,001 tokens (two roles each);"
    echo "\`small\` has 10 users and 10 tokens. U is $big_user, who owns 101 of the tokens."
    echo
    echo "$table"
    echo
    echo "Budgets (DESIGN §8): \`--version\` ≤ 2 ms; \`token list -u U\`, \`user get\`, \`token roles\`"
    echo "≤ 5 ms and ≤ 2× sqlite3; \`token verify\` ≤ 5 ms and ≤ 1.2× its 10-token time;"
    echo "\`token set\` ≤ 15 ms; peak RSS ≤ 32 MiB; \`db check\` ≤ 1.3× and \`db backup\` ≤ 1.5× the"
    echo "sqlite3 shell doing the same on the 1M-token database; \`token scan\` of a 100 MiB tree ≤ 3×"
    echo "\`grep -rEo\` for the token shape; listings that grow with the answer within 32 MiB, their"
    echo "first row at once (\`| head -1\` ≤ 10 ms) and within 2× of \`sqlite3 -json\` printing the same rows;"
    echo "\`audit list -u\` and \`user list -r/-p\` matching ≤ 100 ≤ 5 ms; \`token set\` flat in the owner's"
    echo "token count. \`wide\` has 100,000 users, 1,000,000 audit events and a user \`heavy\` with 100,000"
    echo "expired tokens; \`tok1k\` and \`tok100k\` hold 1,000 and 100,000 tokens."
    echo
    echo "PostgreSQL rows (DESIGN §10): a throwaway PostgreSQL $(psql --version | awk '{print $3}') cluster on this machine (\`.ci/postgres\`,"
    echo "fsync on), reached over its Unix socket; \`big\` moved onto it with \`db copy\` (one run) and"
    echo "back into a new file. Budgets: \`token verify\` and the reads ≤ 1.5× \`psql\` running the same query,"
    echo "\`token set\` ≤ 1.5× \`psql\` running the same inserts in one transaction (each psql is a whole"
    echo "process too: start, connect, query)."
} >"$root/bench/RESULTS.md"
echo
echo "wrote bench/RESULTS.md"
