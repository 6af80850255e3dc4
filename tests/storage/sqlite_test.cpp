#include "storage/sqlite.h"

#include <gtest/gtest.h>

#include <fstream>

#include "tests/support/temp_dir.h"

namespace fanout {
namespace {

class SqliteTest : public ::testing::Test {
 protected:
  test::TempDir dir_;
};

TEST_F(SqliteTest, RowsWrittenAreReadBackAfterReopening) {
  const std::string path = dir_.File("t.db");
  {
    Result<SqliteDb> db = SqliteDb::Open(path);
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    ASSERT_TRUE(db->Exec("CREATE TABLE pages(url TEXT PRIMARY KEY, bytes INTEGER)").ok());
    Result<SqliteStmt> insert = db->Prepare("INSERT INTO pages VALUES (?1, ?2)");
    ASSERT_TRUE(insert.ok());
    for (int i = 0; i < 3; ++i) {
      insert->Bind(1, "http://h/p" + std::to_string(i)).Bind(2, int64_t{100} * i);
      ASSERT_TRUE(insert->Run().ok());
      insert->Reset();
    }
  }
  Result<SqliteDb> db = SqliteDb::Open(path);
  ASSERT_TRUE(db.ok());
  Result<SqliteStmt> q = db->Prepare("SELECT count(*), sum(bytes) FROM pages");
  ASSERT_TRUE(q.ok());
  ASSERT_TRUE(*q->Step());
  EXPECT_EQ(q->ColumnInt(0), 3);
  EXPECT_EQ(q->ColumnInt(1), 300);
}

TEST_F(SqliteTest, DuplicateKeyIsAnErrorNotACrash) {
  Result<SqliteDb> db = SqliteDb::Open(dir_.File("t.db"));
  ASSERT_TRUE(db->Exec("CREATE TABLE t(k TEXT PRIMARY KEY); INSERT INTO t VALUES('a')").ok());
  Status s = db->Exec("INSERT INTO t VALUES('a')");
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("UNIQUE"), std::string::npos) << s.message();
}

TEST_F(SqliteTest, FileThatIsNotADatabaseIsReportedAsCorruption) {
  const std::string path = dir_.File("notes.txt");
  std::ofstream(path) << "These are my notes, not a database. They are long enough to have a header.\n";
  Result<SqliteDb> db = SqliteDb::Open(path);
  ASSERT_FALSE(db.ok());
  EXPECT_EQ(db.status().code(), Status::Code::kCorruption) << db.status().ToString();
}

}  // namespace
}  // namespace fanout
