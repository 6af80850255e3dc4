#include "storage/sqlite.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "tests/support/status_matchers.h"
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
    ASSERT_OK(db);
    ASSERT_OK(db->Exec("CREATE TABLE pages(url TEXT PRIMARY KEY, bytes INTEGER)"));
    Result<SqliteStmt> insert = db->Prepare("INSERT INTO pages VALUES (?1, ?2)");
    ASSERT_OK(insert);
    for (int i = 0; i < 3; ++i) {
      insert->Bind(1, "http://h/p" + std::to_string(i)).Bind(2, int64_t{100} * i);
      ASSERT_OK(insert->Run());
      insert->Reset();
    }
  }
  Result<SqliteDb> db = SqliteDb::Open(path);
  ASSERT_OK(db);
  Result<SqliteStmt> q = db->Prepare("SELECT count(*), sum(bytes) FROM pages");
  ASSERT_OK(q);
  ASSERT_TRUE(*q->Step());
  EXPECT_EQ(q->ColumnInt(0), 3);
  EXPECT_EQ(q->ColumnInt(1), 300);
}

TEST_F(SqliteTest, DuplicateKeyIsAnErrorNotACrash) {
  Result<SqliteDb> db = SqliteDb::Open(dir_.File("t.db"));
  ASSERT_OK(db->Exec("CREATE TABLE t(k TEXT PRIMARY KEY); INSERT INTO t VALUES('a')"));
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

std::string Contents(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream bytes;
  bytes << in.rdbuf();
  return bytes.str();
}

TEST_F(SqliteTest, ReadOnlyConnectionReadsButNeverWrites) {
  const std::string path = dir_.File("t.db");
  {
    Result<SqliteDb> db = SqliteDb::Open(path);
    ASSERT_OK(db);
    ASSERT_OK(db->Exec("PRAGMA journal_mode=WAL; CREATE TABLE t(k TEXT); INSERT INTO t VALUES('a')"));
  }
  const std::string before = Contents(path);
  {
    Result<SqliteDb> db = SqliteDb::OpenReadOnly(path);
    ASSERT_OK(db);
    EXPECT_TRUE(db->IsReadOnly());
    {
      Result<SqliteStmt> q = db->Prepare("SELECT k FROM t");
      ASSERT_OK(q);
      ASSERT_TRUE(*q->Step());
      EXPECT_EQ(q->ColumnText(0), "a");
    }
    Status write = db->Exec("INSERT INTO t VALUES('b')");
    EXPECT_FALSE(write.ok());
    EXPECT_NE(write.message().find("readonly"), std::string::npos) << write.message();
    EXPECT_FALSE(db->Exec("CREATE TABLE u(x)").ok());
  }
  EXPECT_EQ(Contents(path), before);
}

TEST_F(SqliteTest, ReadOnlyOpenOfAMissingFileIsNotFoundAndCreatesNothing) {
  const std::string path = dir_.File("nothing.db");
  Result<SqliteDb> db = SqliteDb::OpenReadOnly(path);
  ASSERT_FALSE(db.ok());
  EXPECT_EQ(db.status().code(), Status::Code::kNotFound) << db.status().ToString();
  EXPECT_NE(db.status().message().find("no such database"), std::string::npos) << db.status().message();
  EXPECT_FALSE(std::filesystem::exists(path));
}

TEST_F(SqliteTest, ReadOnlyOpenOfAFileThatIsNotADatabaseIsCorruption) {
  const std::string path = dir_.File("notes.txt");
  std::ofstream(path) << "These are my notes, not a database. They are long enough to have a header.\n";
  Result<SqliteDb> db = SqliteDb::OpenReadOnly(path);
  ASSERT_FALSE(db.ok());
  EXPECT_EQ(db.status().code(), Status::Code::kCorruption) << db.status().ToString();
}

TEST_F(SqliteTest, ColumnsTellTheirNamesAndEachValueItsType) {
  Result<SqliteDb> db = SqliteDb::Open(dir_.File("t.db"));
  ASSERT_OK(db);
  Result<SqliteStmt> q = db->Prepare("SELECT 1 AS n, 2.5 AS x, 'text' AS s, NULL AS absent, x'00' AS b");
  ASSERT_OK(q);
  ASSERT_EQ(q->ColumnCount(), 5);
  EXPECT_EQ(q->ColumnName(0), "n");
  EXPECT_EQ(q->ColumnName(3), "absent");
  ASSERT_TRUE(*q->Step());
  EXPECT_EQ(q->ColumnType(0), SqliteStmt::ValueType::kInteger);
  EXPECT_EQ(q->ColumnType(1), SqliteStmt::ValueType::kFloat);
  EXPECT_EQ(q->ColumnType(2), SqliteStmt::ValueType::kText);
  EXPECT_EQ(q->ColumnType(3), SqliteStmt::ValueType::kNull);
  EXPECT_EQ(q->ColumnType(4), SqliteStmt::ValueType::kBlob);
}

}  // namespace
}  // namespace fanout
