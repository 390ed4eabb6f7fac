// `spasmwatch export --format edf` (src/app/cli_export_edf.cpp, part of the spasmwatch binary,
// compiled into this test): the command's own checks on its input and output files.
#include "app/cli_export_edf.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "app/cli_common.hpp"
#include "import/edf_file.hpp"
#include "import/import_test_support.hpp"

namespace spasmwatch::app {
namespace {

using import::test::TempDir;
using import::test::TestFile;

struct Run {
  int code = -1;
  std::string err;
};

Run export_edf(const std::vector<std::string>& inputs, const std::string& output) {
  ExportEdfRequest request;
  request.inputs = inputs;
  request.output = output;
  FakeClock clock;
  testing::internal::CaptureStderr();
  Run r;
  r.code = run_export_edf(request, clock);
  r.err = testing::internal::GetCapturedStderr();
  return r;
}

// Pass 2 re-reads the input after the output is created: an output that is the input used to
// destroy it. However the same file is named, it is refused and left as it was.
TEST(ExportEdfCommand, OutputThatIsTheInputIsRefusedAndTheInputKept) {
  TempDir dir;
  const auto input = dir.file("rec.edf");
  ASSERT_TRUE(import::test::write_edf(input, TestFile{}));
  const auto before = import::test::read_bytes(input);
  const auto link = dir.file("link.edf");
  ASSERT_EQ(::link(input.c_str(), link.c_str()), 0);
  for (const auto& output : {input, dir.file("./rec.edf"), link}) {
    const auto r = export_edf({input}, output);
    EXPECT_EQ(r.code, kExitBadInput) << output;
    EXPECT_NE(r.err.find("is the input file"), std::string::npos) << r.err;
    EXPECT_EQ(import::test::read_bytes(input), before) << output;
    EXPECT_FALSE(std::filesystem::exists(output + ".part")) << output;
  }
}

TEST(ExportEdfCommand, ExportToAnotherFileIsComplete) {
  TempDir dir;
  const auto input = dir.file("rec.edf"), output = dir.file("out.edf");
  ASSERT_TRUE(import::test::write_edf(input, TestFile{}));
  const auto r = export_edf({input}, output);
  ASSERT_EQ(r.code, kExitOk) << r.err;
  EXPECT_FALSE(std::filesystem::exists(output + ".part"));
  auto b = import::EdfFile::open(output);
  EXPECT_EQ(b->signals().size(), 1u);
}

}  // namespace
}  // namespace spasmwatch::app
