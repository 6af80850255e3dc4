// The shared frontier's schema in PostgreSQL: its tables (names start with fanout_, so that it can
// live in a database with others) and the functions the workers call, one per round trip.
//
// Versioned like the crawl database: fanout_frontier_meta holds 'schema_version'; kFrontierSchemaVersion
// is what this build writes. Init creates or migrates it under an advisory lock, so workers that
// start at once do not race; a newer schema is refused. README.md ("The shared frontier")
// documents the tables; change it together with the DDL.
//
// Threads: the caller's connection, on the caller's thread.
#pragma once

#include "pgfrontier/pg.h"
#include "util/status.h"

namespace fanout::pg {

inline constexpr int kFrontierSchemaVersion = 2;

// Creates the schema in an empty database, migrates an older one, or checks an up-to-date one.
// Errors: kInvalidArgument for a newer schema ("upgrade fanout"); the connection's errors.
Status InitFrontierSchema(PgConn& conn);

// The version in the database: 0 when it has none.
Result<int> FrontierSchemaVersion(PgConn& conn);

}  // namespace fanout::pg
