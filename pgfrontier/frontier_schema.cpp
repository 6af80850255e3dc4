#include "pgfrontier/frontier_schema.h"

#include <iterator>
#include <string>

namespace fanout::pg {
namespace {

// kMigrations[v] takes the schema from version v to v + 1. Append-only, like the crawl database's.
// Every function locks hosts rows in origin order (or skips locked ones), so that two workers'
// transactions never wait for each other in a circle; a deadlock is still retried by the client.
constexpr const char* kMigrations[] = {
    // 0 -> 1
    R"sql(
CREATE TABLE fanout_frontier_meta (key text PRIMARY KEY, value text NOT NULL);

-- One crawl that workers share. fetched: pages done (accepted); refused: completions fenced off
-- because the host had been taken over since.
CREATE TABLE fanout_runs (
  id          bigserial PRIMARY KEY,
  created_at  timestamptz NOT NULL DEFAULT now(),
  finished_at timestamptz,
  seeds       jsonb NOT NULL,
  options     jsonb NOT NULL,
  max_pages   bigint NOT NULL DEFAULT 0,
  delay_s     double precision NOT NULL DEFAULT 0,
  fetched     bigint NOT NULL DEFAULT 0,
  refused     bigint NOT NULL DEFAULT 0
);

CREATE TABLE fanout_workers (
  run       bigint NOT NULL REFERENCES fanout_runs(id),
  name      text NOT NULL,
  joined_at timestamptz NOT NULL DEFAULT now(),
  seen_at   timestamptz NOT NULL DEFAULT now(),
  left_at   timestamptz,
  pages     bigint NOT NULL DEFAULT 0,
  PRIMARY KEY (run, name)
);

-- A host (origin) of a run and its lease: owner and lease_until while a worker holds it; epoch
-- rises on every claim, and a completion names the epoch it was fetched under. next_allowed: the
-- earliest start of its next request (the last owner's delay); pending: its rows in fanout_queue.
CREATE TABLE fanout_hosts (
  run          bigint NOT NULL REFERENCES fanout_runs(id),
  origin       text NOT NULL,
  owner        text,
  epoch        bigint NOT NULL DEFAULT 0,
  lease_until  timestamptz,
  next_allowed timestamptz NOT NULL DEFAULT now(),
  delay_s      double precision NOT NULL DEFAULT 0,
  pending      integer NOT NULL DEFAULT 0,
  PRIMARY KEY (run, origin)
);
CREATE INDEX fanout_hosts_pending ON fanout_hosts (run) WHERE pending > 0;
CREATE INDEX fanout_hosts_owner ON fanout_hosts (run, owner) WHERE owner IS NOT NULL;

-- Every URL the run has queued, by a 64-bit hash of its normalised form.
CREATE TABLE fanout_seen (run bigint NOT NULL, h bigint NOT NULL, PRIMARY KEY (run, h));

-- Only URLs waiting or being fetched: a done URL leaves. taken_epoch: the epoch of the lease that
-- handed it to a worker (a new epoch hands it out again).
CREATE TABLE fanout_queue (
  run         bigint NOT NULL,
  h           bigint NOT NULL,
  origin      text NOT NULL,
  url         text NOT NULL,
  depth       integer NOT NULL,
  parent      text,
  taken_epoch bigint,
  PRIMARY KEY (run, h)
);
CREATE INDEX fanout_queue_host ON fanout_queue (run, origin, depth);

-- robots.txt as the lease holder fetched it, for the run.
CREATE TABLE fanout_robots (
  run        bigint NOT NULL,
  origin     text NOT NULL,
  status     integer NOT NULL,
  curl_code  integer NOT NULL,
  body       bytea NOT NULL,
  fetched_at timestamptz NOT NULL,
  PRIMARY KEY (run, origin)
);

)sql",
    // 1 -> 2: addresses leased across workers (--per-ip, --ip-delay).
    R"sql(
-- Where a host's transfers connect, as the worker that looked it up last found (its limit key).
ALTER TABLE fanout_hosts ADD COLUMN address text;

-- An address and its lease: a worker sends to an address only while it holds it (owner,
-- lease_until), so that --per-ip and --ip-delay hold for the run. next_allowed: the earliest start
-- of the next request there; delay_s: --ip-delay as its last holder had it.
CREATE TABLE fanout_addresses (
  run          bigint NOT NULL REFERENCES fanout_runs(id),
  address      text NOT NULL,
  owner        text,
  lease_until  timestamptz,
  next_allowed timestamptz NOT NULL DEFAULT now(),
  delay_s      double precision NOT NULL DEFAULT 0,
  PRIMARY KEY (run, address)
);
CREATE INDEX fanout_addresses_owner ON fanout_addresses (run, owner) WHERE owner IS NOT NULL;
)sql",
};
constexpr int kMigrationCount = static_cast<int>(std::size(kMigrations));

// The functions the workers call, as this build has them: (re)made after every migration, so that
// they are always the newest (their signatures never change; a change of one would drop it first).
constexpr const char* kFunctions = R"sql(
-- Joins run p_run, or (p_run = 0) the newest unfinished run with these seeds, or creates one with
-- them. p_seeds: [{"h": hash, "u": url, "o": origin}]. Returns the run, its seeds and --max-pages.
CREATE OR REPLACE FUNCTION fanout_join(p_run bigint, p_seeds jsonb, p_options jsonb, p_max_pages bigint, p_delay float8)
RETURNS TABLE (run bigint, seeds jsonb, max_pages bigint) LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
  v_run bigint;
  v_urls jsonb;
BEGIN
  PERFORM pg_advisory_xact_lock(hashtext('fanout_join'));
  IF p_run > 0 THEN
    SELECT id INTO v_run FROM fanout_runs WHERE id = p_run;
    IF v_run IS NULL THEN
      RAISE EXCEPTION 'the frontier has no run %', p_run USING ERRCODE = 'P0002';
    END IF;
    RETURN QUERY SELECT r.id, r.seeds, r.max_pages FROM fanout_runs r WHERE r.id = v_run;
    RETURN;
  END IF;
  SELECT coalesce(jsonb_agg(x->>'u' ORDER BY n), '[]') INTO v_urls FROM jsonb_array_elements(p_seeds) WITH ORDINALITY t(x, n);
  SELECT id INTO v_run FROM fanout_runs
    WHERE (jsonb_array_length(v_urls) = 0 OR seeds = v_urls) AND finished_at IS NULL ORDER BY id DESC LIMIT 1;
  IF v_run IS NULL THEN
    IF jsonb_array_length(v_urls) = 0 THEN
      RAISE EXCEPTION 'the frontier has no unfinished run to join: give seeds to start one' USING ERRCODE = 'P0002';
    END IF;
  INSERT INTO fanout_runs (seeds, options, max_pages, delay_s) VALUES (v_urls, p_options, p_max_pages, p_delay)
    RETURNING id INTO v_run;
  INSERT INTO fanout_seen (run, h) SELECT DISTINCT v_run, (x->>'h')::bigint FROM jsonb_array_elements(p_seeds) x;
  INSERT INTO fanout_queue (run, h, origin, url, depth)
    SELECT DISTINCT ON ((x->>'h')::bigint) v_run, (x->>'h')::bigint, x->>'o', x->>'u', 0 FROM jsonb_array_elements(p_seeds) x;
  INSERT INTO fanout_hosts (run, origin, delay_s, pending)
    SELECT v_run, origin, p_delay, count(*) FROM fanout_queue WHERE run = v_run GROUP BY origin;
  END IF;
  RETURN QUERY SELECT r.id, r.seeds, r.max_pages FROM fanout_runs r WHERE r.id = v_run;
END $$;

-- A worker joins again under its name: what an earlier process of it still holds (it was killed, or
-- lost power) goes back, hosts and addresses, their next request a delay from now.
CREATE OR REPLACE FUNCTION fanout_rejoin(p_run bigint, p_worker text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  UPDATE fanout_hosts h SET owner = NULL, lease_until = NULL,
                            next_allowed = greatest(h.next_allowed, now() + h.delay_s * interval '1 second')
    FROM (SELECT x.origin FROM fanout_hosts x WHERE x.run = p_run AND x.owner = p_worker ORDER BY x.origin FOR UPDATE) o
    WHERE h.run = p_run AND h.origin = o.origin;
  UPDATE fanout_addresses a SET owner = NULL, lease_until = NULL,
                                next_allowed = greatest(a.next_allowed, now() + a.delay_s * interval '1 second')
    FROM (SELECT x.address FROM fanout_addresses x WHERE x.run = p_run AND x.owner = p_worker ORDER BY x.address FOR UPDATE) o
    WHERE a.run = p_run AND a.address = o.address;
END $$;

-- A worker's one call for work: renews the leases it holds, claims hosts up to p_hosts that
-- nobody holds (or whose lease expired: epoch + 1, and the first request waits for the old lease
-- plus the host's delay), and takes up to p_urls queued URLs of its hosts (p_per_host each, within
-- the run's --max-pages). Rows: ('url', origin, epoch, 0, url, depth, parent); ('host', origin,
-- epoch, seconds to wait, ..., robots.txt if newly claimed and known) for every host held;
-- ('address', address, NULL, seconds to wait) for every address held; ('state', ..., 1 if the run
-- is over). Addresses held are renewed with the hosts; a host whose address another worker holds
-- is not claimed.
CREATE OR REPLACE FUNCTION fanout_claim(p_run bigint, p_worker text, p_lease_ms integer, p_hosts integer, p_urls integer,
                             p_per_host integer)
RETURNS TABLE (kind text, origin text, epoch bigint, num float8, url text, depth integer, parent text,
               r_status integer, r_curl integer, r_body text)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
  v_lease interval := p_lease_ms * interval '1 millisecond';
  v_held integer;
  v_claimed text[] := '{}';
  v_max bigint;
  v_fetched bigint;
  v_taken bigint := 0;
  v_budget bigint := p_urls;
  v_over boolean;
BEGIN
  INSERT INTO fanout_workers AS w (run, name) VALUES (p_run, p_worker)
    ON CONFLICT (run, name) DO UPDATE SET seen_at = now(), left_at = NULL;
  UPDATE fanout_hosts h SET lease_until = now() + v_lease
    FROM (SELECT x.origin FROM fanout_hosts x WHERE x.run = p_run AND x.owner = p_worker ORDER BY x.origin FOR UPDATE) o
    WHERE h.run = p_run AND h.origin = o.origin;
  GET DIAGNOSTICS v_held = ROW_COUNT;
  IF v_held < p_hosts THEN
    WITH c AS MATERIALIZED (
      SELECT x.origin FROM fanout_hosts x
      WHERE x.run = p_run AND x.pending > 0 AND (x.owner IS NULL OR x.lease_until < now())
        AND (x.address IS NULL OR NOT EXISTS (
              SELECT 1 FROM fanout_addresses a WHERE a.run = p_run AND a.address = x.address
                AND a.owner <> p_worker AND a.lease_until >= now()))
      LIMIT p_hosts - v_held FOR UPDATE SKIP LOCKED),
    u AS (
      UPDATE fanout_hosts h SET
        next_allowed = CASE WHEN h.owner IS NULL THEN h.next_allowed
                            ELSE greatest(h.next_allowed, h.lease_until + h.delay_s * interval '1 second') END,
        owner = p_worker, epoch = h.epoch + 1, lease_until = now() + v_lease
      FROM c WHERE h.run = p_run AND h.origin = c.origin
      RETURNING h.origin)
    SELECT coalesce(array_agg(u.origin), '{}') INTO v_claimed FROM u;
  END IF;
  -- Addresses after hosts, in address order, as everywhere.
  UPDATE fanout_addresses a SET lease_until = now() + v_lease
    FROM (SELECT x.address FROM fanout_addresses x WHERE x.run = p_run AND x.owner = p_worker ORDER BY x.address FOR UPDATE) o
    WHERE a.run = p_run AND a.address = o.address;

  SELECT r.max_pages INTO v_max FROM fanout_runs r WHERE r.id = p_run;
  IF v_max > 0 THEN
    -- One claim at a time shares out the budget (hosts are locked before the run, as in fanout_report).
    SELECT r.fetched INTO v_fetched FROM fanout_runs r WHERE r.id = p_run FOR UPDATE;
    SELECT count(*) INTO v_taken FROM fanout_queue q JOIN fanout_hosts h ON h.run = q.run AND h.origin = q.origin
      WHERE q.run = p_run AND h.owner IS NOT NULL AND h.lease_until >= now() AND q.taken_epoch = h.epoch;
    v_budget := least(v_budget, greatest(0, v_max - v_fetched - v_taken));
  END IF;

  RETURN QUERY
  WITH held AS (SELECT h.origin, h.epoch FROM fanout_hosts h WHERE h.run = p_run AND h.owner = p_worker AND h.pending > 0),
  -- Round robin over the hosts (each host's first URL, then each one's second...), so that a small
  -- budget still gives every host held something to send.
  picked AS MATERIALIZED (
    SELECT q.h, held.epoch FROM held CROSS JOIN LATERAL (
      SELECT f.h, row_number() OVER (ORDER BY f.depth) AS turn FROM (
        SELECT q.h, q.depth FROM fanout_queue q
        WHERE q.run = p_run AND q.origin = held.origin AND q.taken_epoch IS DISTINCT FROM held.epoch
        ORDER BY q.depth LIMIT p_per_host) f) q
    ORDER BY q.turn
    LIMIT v_budget),
  took AS (
    UPDATE fanout_queue q SET taken_epoch = picked.epoch FROM picked WHERE q.run = p_run AND q.h = picked.h
    RETURNING q.origin, q.url, q.depth, q.parent, picked.epoch)
  SELECT 'url'::text, took.origin, took.epoch, 0::float8, took.url, took.depth, took.parent, NULL::integer,
         NULL::integer, NULL::text
  FROM took;

  RETURN QUERY
  SELECT 'host'::text, h.origin, h.epoch, greatest(0, extract(epoch FROM h.next_allowed - now()))::float8,
         NULL::text, NULL::integer, NULL::text,
         r.status, r.curl_code, encode(r.body, 'hex')
  FROM fanout_hosts h
  -- robots.txt for the hosts just claimed, while fresh (RFC 9309 2.4: kept 24 hours at most).
  LEFT JOIN fanout_robots r ON r.run = h.run AND r.origin = h.origin AND h.origin = ANY (v_claimed)
                               AND r.fetched_at > now() - interval '24 hours'
  WHERE h.run = p_run AND h.owner = p_worker;

  RETURN QUERY
  SELECT 'address'::text, a.address, NULL::bigint, greatest(0, extract(epoch FROM a.next_allowed - now()))::float8,
         NULL::text, NULL::integer, NULL::text, NULL::integer, NULL::integer, NULL::text
  FROM fanout_addresses a WHERE a.run = p_run AND a.owner = p_worker;

  v_over := NOT EXISTS (SELECT 1 FROM fanout_queue q WHERE q.run = p_run) OR (v_max > 0 AND v_fetched >= v_max);
  IF v_over THEN
    UPDATE fanout_runs SET finished_at = coalesce(finished_at, now()) WHERE id = p_run;
  END IF;
  RETURN QUERY SELECT 'state'::text, NULL::text, NULL::bigint, CASE WHEN v_over THEN 1 ELSE 0 END::float8,
                      NULL::text, NULL::integer, NULL::text, NULL::integer, NULL::integer, NULL::text;
END $$;

-- A worker's batch of news, in one transaction:
--   offer:   [{"h", "u", "o", "d", "f"}] links found: queued where new (whoever found them);
--   done:    [{"h", "o", "e", "p", "r": [{"h", "o"}]}] URLs done under epoch e (p: a page was
--            stored); refused unless the worker still holds host o at epoch e; r: redirect targets
--            fetched, which leave the queue unless another worker is fetching them;
--   robots:  [{"o", "s", "c", "b" (hex), "d"}] robots.txt fetched, and the delay it sets;
--   release: [{"o", "e", "g"}] hosts given back; the next request waits g ms;
--   unaddress: [{"a", "g"}] addresses given back; the next request there waits g ms;
--   address: [{"o", "e", "a", "d"}] host o, held under epoch e, connects to address a (d: the
--            seconds between two requests there): a goes to this worker if nobody else holds it,
--            else o goes back at once, its address kept, for a's holder to claim;
--   leave:   true when the worker stops (its addresses go back too).
-- Returns how many done URLs were accepted and refused.
CREATE OR REPLACE FUNCTION fanout_report(p_run bigint, p_worker text, p_batch jsonb)
RETURNS TABLE (accepted bigint, refused bigint)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
  v_delay float8;
  v_accepted bigint;
  v_refused bigint;
  v_pages bigint;
BEGIN
  CREATE TEMP TABLE IF NOT EXISTS fanout_t_links (h bigint, u text, o text, d integer, f text) ON COMMIT DELETE ROWS;
  CREATE TEMP TABLE IF NOT EXISTS fanout_t_done (h bigint, o text, e bigint, p boolean, r jsonb, ok boolean)
    ON COMMIT DELETE ROWS;
  CREATE TEMP TABLE IF NOT EXISTS fanout_t_redirects (h bigint, o text) ON COMMIT DELETE ROWS;
  CREATE TEMP TABLE IF NOT EXISTS fanout_t_hosts (o text PRIMARY KEY) ON COMMIT DELETE ROWS;
  CREATE TEMP TABLE IF NOT EXISTS fanout_t_booked (o text, a text, d float8) ON COMMIT DELETE ROWS;
  SELECT delay_s INTO v_delay FROM fanout_runs WHERE id = p_run;

  INSERT INTO fanout_t_links
    SELECT DISTINCT ON (x.h) x.h, x.u, x.o, x.d, x.f
    FROM jsonb_to_recordset(coalesce(p_batch->'offer', '[]')) AS x(h bigint, u text, o text, d integer, f text)
    ORDER BY x.h, x.d;
  INSERT INTO fanout_t_done
    SELECT x.h, x.o, x.e, x.p, x.r, false
    FROM jsonb_to_recordset(coalesce(p_batch->'done', '[]')) AS x(h bigint, o text, e bigint, p boolean, r jsonb);
  INSERT INTO fanout_t_redirects
    SELECT DISTINCT y.h, y.o FROM fanout_t_done d, jsonb_to_recordset(coalesce(d.r, '[]')) AS y(h bigint, o text);
  INSERT INTO fanout_t_hosts
    SELECT o FROM fanout_t_links UNION SELECT o FROM fanout_t_done UNION SELECT o FROM fanout_t_redirects
    UNION SELECT x.o FROM jsonb_to_recordset(coalesce(p_batch->'robots', '[]')) AS x(o text)
    UNION SELECT x.o FROM jsonb_to_recordset(coalesce(p_batch->'release', '[]')) AS x(o text)
    UNION SELECT x.o FROM jsonb_to_recordset(coalesce(p_batch->'address', '[]')) AS x(o text);

  -- Every host the batch names: created, then locked, in origin order.
  INSERT INTO fanout_hosts (run, origin, delay_s) SELECT p_run, o, v_delay FROM fanout_t_hosts ORDER BY o
    ON CONFLICT DO NOTHING;
  PERFORM 1 FROM fanout_hosts h WHERE h.run = p_run AND h.origin IN (SELECT o FROM fanout_t_hosts)
    ORDER BY h.origin FOR UPDATE;

  -- Fencing: a completion counts only if the worker still holds the host at the epoch it had.
  UPDATE fanout_t_done d SET ok = true FROM fanout_hosts h
    WHERE h.run = p_run AND h.origin = d.o AND h.owner = p_worker AND h.epoch = d.e;
  SELECT count(*) FILTER (WHERE ok), count(*) FILTER (WHERE NOT ok) INTO v_accepted, v_refused FROM fanout_t_done;
  DELETE FROM fanout_t_redirects WHERE h NOT IN (SELECT y.h FROM fanout_t_done d,
    jsonb_to_recordset(coalesce(d.r, '[]')) AS y(h bigint, o text) WHERE d.ok);
  INSERT INTO fanout_seen (run, h) SELECT p_run, h FROM fanout_t_redirects ORDER BY h ON CONFLICT DO NOTHING;

  -- Done URLs leave the queue (counted once, however often a batch is sent again).
  WITH gone AS (
    DELETE FROM fanout_queue q USING fanout_hosts h
    WHERE q.run = p_run AND h.run = p_run AND h.origin = q.origin
      AND (q.h IN (SELECT t.h FROM fanout_t_done t WHERE t.ok)
           OR (q.h IN (SELECT r.h FROM fanout_t_redirects r)
               AND (h.owner = p_worker OR q.taken_epoch IS DISTINCT FROM h.epoch OR h.lease_until < now())))
    RETURNING q.origin, q.h),
  per AS (SELECT origin, count(*) AS n FROM gone GROUP BY origin),
  counted AS (UPDATE fanout_hosts h SET pending = h.pending - per.n FROM per WHERE h.run = p_run AND h.origin = per.origin)
  SELECT count(*) INTO v_pages FROM gone g JOIN fanout_t_done t ON t.h = g.h AND t.ok AND t.p;

  -- New URLs: seen for the first time, queued on their hosts.
  WITH fresh AS (
    INSERT INTO fanout_seen (run, h) SELECT p_run, h FROM fanout_t_links ORDER BY h ON CONFLICT DO NOTHING RETURNING h),
  queued AS (
    INSERT INTO fanout_queue (run, h, origin, url, depth, parent)
    SELECT p_run, l.h, l.o, l.u, l.d, l.f FROM fanout_t_links l JOIN fresh USING (h) RETURNING origin),
  per AS (SELECT origin, count(*) AS n FROM queued GROUP BY origin)
  UPDATE fanout_hosts h SET pending = h.pending + per.n FROM per WHERE h.run = p_run AND h.origin = per.origin;

  INSERT INTO fanout_robots (run, origin, status, curl_code, body, fetched_at)
    SELECT p_run, x.o, x.s, x.c, decode(x.b, 'hex'), now()
    FROM jsonb_to_recordset(coalesce(p_batch->'robots', '[]')) AS x(o text, s integer, c integer, b text)
    ORDER BY x.o
    ON CONFLICT (run, origin) DO UPDATE SET status = excluded.status, curl_code = excluded.curl_code,
                                            body = excluded.body, fetched_at = excluded.fetched_at;
  UPDATE fanout_hosts h SET delay_s = x.d
    FROM jsonb_to_recordset(coalesce(p_batch->'robots', '[]')) AS x(o text, d float8)
    WHERE h.run = p_run AND h.origin = x.o;

  UPDATE fanout_hosts h SET owner = NULL, lease_until = NULL,
                            next_allowed = greatest(h.next_allowed, now() + x.g * interval '1 millisecond')
    FROM jsonb_to_recordset(coalesce(p_batch->'release', '[]')) AS x(o text, e bigint, g float8)
    WHERE h.run = p_run AND h.origin = x.o AND h.owner = p_worker AND h.epoch = x.e;

  -- Addresses, after the hosts (given back first, then booked: a batch may do both to one), locked
  -- in address order.
  INSERT INTO fanout_t_booked
    SELECT x.o, x.a, x.d FROM jsonb_to_recordset(coalesce(p_batch->'address', '[]')) AS x(o text, e bigint, a text, d float8)
    JOIN fanout_hosts h ON h.run = p_run AND h.origin = x.o AND h.owner = p_worker AND h.epoch = x.e;
  INSERT INTO fanout_addresses (run, address) SELECT DISTINCT p_run, a FROM fanout_t_booked ORDER BY 2 ON CONFLICT DO NOTHING;
  PERFORM 1 FROM fanout_addresses a
    WHERE a.run = p_run AND (a.address IN (SELECT b.a FROM fanout_t_booked b)
                             OR a.address IN (SELECT x.a FROM jsonb_to_recordset(coalesce(p_batch->'unaddress', '[]')) AS x(a text))
                             OR ((p_batch->>'leave')::boolean AND a.owner = p_worker))
    ORDER BY a.address FOR UPDATE;
  UPDATE fanout_addresses a SET owner = NULL, lease_until = NULL,
                                next_allowed = greatest(a.next_allowed, now() + x.g * interval '1 millisecond')
    FROM jsonb_to_recordset(coalesce(p_batch->'unaddress', '[]')) AS x(a text, g float8)
    WHERE a.run = p_run AND a.address = x.a AND a.owner = p_worker;
  UPDATE fanout_hosts h SET address = b.a FROM fanout_t_booked b WHERE h.run = p_run AND h.origin = b.o;
  -- Taken over from a holder whose lease ran out: its last request may have started just before.
  UPDATE fanout_addresses a SET
      next_allowed = CASE WHEN a.owner IS NULL OR a.owner = p_worker THEN a.next_allowed
                          ELSE greatest(a.next_allowed, a.lease_until + a.delay_s * interval '1 second') END,
      owner = p_worker, lease_until = b.until, delay_s = b.d
    FROM (SELECT b.a, max(b.d) AS d, max(h.lease_until) AS until FROM fanout_t_booked b
          JOIN fanout_hosts h ON h.run = p_run AND h.origin = b.o GROUP BY b.a) b
    WHERE a.run = p_run AND a.address = b.a AND (a.owner IS NULL OR a.owner = p_worker OR a.lease_until < now());
  UPDATE fanout_hosts h SET owner = NULL, lease_until = NULL
    FROM fanout_t_booked b JOIN fanout_addresses a ON a.run = p_run AND a.address = b.a
    WHERE h.run = p_run AND h.origin = b.o AND a.owner <> p_worker;
  IF (p_batch->>'leave')::boolean THEN
    UPDATE fanout_addresses a SET owner = NULL, lease_until = NULL,
                                  next_allowed = greatest(a.next_allowed, now() + a.delay_s * interval '1 second')
      WHERE a.run = p_run AND a.owner = p_worker;
  END IF;

  UPDATE fanout_runs SET fetched = fetched + v_pages, refused = refused + v_refused WHERE id = p_run;
  UPDATE fanout_workers SET pages = pages + v_pages, seen_at = now(),
                            left_at = CASE WHEN (p_batch->>'leave')::boolean THEN now() END
    WHERE run = p_run AND name = p_worker;
  RETURN QUERY SELECT v_accepted, v_refused;
END $$;
)sql";
static_assert(kMigrationCount == kFrontierSchemaVersion, "one migration step per schema version");

}  // namespace

Result<int> FrontierSchemaVersion(PgConn& conn) {
  FANOUT_ASSIGN_OR_RETURN(PgResult exists, conn.Exec("SELECT to_regclass('fanout_frontier_meta') IS NOT NULL"));
  if (Text(exists, 0, 0) != "t") return 0;
  FANOUT_ASSIGN_OR_RETURN(PgResult r, conn.Exec("SELECT value FROM fanout_frontier_meta WHERE key = 'schema_version'"));
  if (PQntuples(r.get()) != 1 || IsNull(r, 0, 0)) return 0;
  return static_cast<int>(Int(r, 0, 0));
}

Status InitFrontierSchema(PgConn& conn) {
  FANOUT_RETURN_IF_ERROR(conn.Run("BEGIN"));
  auto abandon = [&](Status why) {
    (void)conn.Run("ROLLBACK");
    return why;
  };
  // One initialiser at a time, across workers.
  Status locked = conn.Run("SELECT pg_advisory_xact_lock(hashtext('fanout_frontier_schema'))");
  if (!locked.ok()) return abandon(locked);
  Result<int> version = FrontierSchemaVersion(conn);
  if (!version.ok()) return abandon(version.status());
  if (*version > kFrontierSchemaVersion) {
    return abandon(Status::Corruption("the frontier's schema version " + std::to_string(*version) +
                                           " is newer than this fanout (" + std::to_string(kFrontierSchemaVersion) +
                                           "); upgrade fanout"));
  }
  for (int from = *version; from < kFrontierSchemaVersion; ++from) {
    Status step = conn.Run(kMigrations[from]);
    if (!step.ok()) return abandon(step);
  }
  if (*version < kFrontierSchemaVersion) {
    Status functions = conn.Run(kFunctions);
    if (!functions.ok()) return abandon(functions);
    Status recorded = conn.Run(
        "INSERT INTO fanout_frontier_meta (key, value) VALUES ('schema_version', $1) "
        "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        {std::to_string(kFrontierSchemaVersion)});
    if (!recorded.ok()) return abandon(recorded);
  }
  return conn.Run("COMMIT");
}

}  // namespace fanout::pg
