// SPDX-License-Identifier: MIT
#include "rooftime/analyzer/format.h"

#include <catch2/catch.hpp>

#include <sstream>

using namespace rooftime::analyzer;

TEST_CASE("long names are elided in the middle to the width asked")
{
    CHECK(elideMiddle("short", 10) == "short");
    const std::string name = "void gemm_kernel<float, 128, 64, 8, true>(float const*, float*, int)";
    const std::string e = elideMiddle(name, 30);
    CHECK(e.size() == 30);
    CHECK(e.substr(0, 10) == name.substr(0, 10));
    CHECK(e.substr(e.size() - 10) == name.substr(name.size() - 10));
    CHECK(e.find("...") != std::string::npos);
}

TEST_CASE("call paths are elided at their start, keeping the innermost end")
{
    CHECK(elideFront("main > step", 20) == "main > step");
    const std::string path = "main > train(int) > step > forward(Batch const&) > conv";
    const std::string e = elideFront(path, 24);
    CHECK(e.size() == 24);
    CHECK(e == "...(Batch const&) > conv");
    CHECK(elideFront(path, 3) == "onv");
}

TEST_CASE("elision counts characters and never cuts one in two")
{
    // Ten two-byte characters (20 bytes): they fit 10 columns, and a cut keeps whole characters.
    const std::string greek = "αβγδεζηθικ";
    CHECK(elideMiddle(greek, 10) == greek);
    CHECK(elideMiddle(greek, 7) == "αβ...ικ");
    CHECK(elideFront(greek, 6) == "...θικ");
    CHECK(elideFront(greek, 2) == "ικ");
    CHECK(elideMiddle("schritt → vorwärts → gemm", 12) == "schri...gemm");
}

TEST_CASE("numbers are printed with SI prefixes and readable time units")
{
    CHECK(siValue(0) == "0");
    CHECK(siValue(12) == "12.0");
    CHECK(siValue(1234567) == "1.23 M");
    CHECK(siValue(2.4e10) == "24.0 G");
    CHECK(siValue(999.9e9) == "1.00 T");
    CHECK(humanSeconds(0) == "0 s");
    CHECK(humanSeconds(812e-9) == "812 ns");
    CHECK(humanSeconds(3.4e-6) == "3.4 us");
    CHECK(humanSeconds(0.0123) == "12.3 ms");
    CHECK(humanSeconds(4.56) == "4.56 s");
}

TEST_CASE("text report rows fit the requested width, JSON and CSV carry every row")
{
    Report r;
    r.runSeconds = 2;
    ProfileSummary s;
    s.path = "/very/long/path/" + std::string(200, 'p') + ".rtdb";
    s.complete = true;
    s.runSeconds = 2;
    r.profiles.push_back(s);
    for (int i = 0; i < 5; ++i) {
        ReportRow row;
        row.name = "kernel_" + std::to_string(i) + std::string(150, 'x');
        row.kind = "marker";
        row.count = 123456789;
        row.timeSeconds = 1.5;
        row.share = 0.75;
        row.flops = 1e15;
        row.bytes = 1e12;
        row.intensity = 1000;
        row.flopsPerSecond = 1e14;
        row.bytesPerSecond = 1e11;
        row.workSource = Source::PartlyDeclared;
        r.rows.push_back(row);
    }
    for (std::size_t width : { 100u, 120u }) {
        std::istringstream text(formatReport(r, OutputFormat::Text, { 0, width }));
        std::string line;
        while (std::getline(text, line)) {
            INFO(line);
            CHECK(line.size() <= width);
        }
    }
    CHECK(formatReport(r, OutputFormat::Text, { 2, 120 }).find("3 more rows") != std::string::npos);
    const std::string csv = formatReport(r, OutputFormat::Csv, { 0, 120 });
    CHECK(std::count(csv.begin(), csv.end(), '\n') == 6);
    CHECK(csv.find("partly declared") != std::string::npos);
    const std::string json = formatReport(r, OutputFormat::Json, { 3, 120 });
    CHECK(json.find("kernel_2") != std::string::npos);
    CHECK(json.find("kernel_3") == std::string::npos);
}

TEST_CASE("compactKernelNames: two kernels never read alike", "[format]")
{
    // The H200 LSTM's two direct copies differ only in their lambdas (#4 on long, #7 on float).
    const std::string a
        = "void at::native::elementwise_kernel<128, 2, at::native::gpu_kernel_impl_nocast<at::native::"
          "direct_copy_kernel_cuda(at::TensorIteratorBase&)::{lambda()#3}::operator()() const::{lambda()"
          "#4}::operator()() const::{lambda(long)#1}>(at::TensorIteratorBase&)::{lambda(int)#1}>(int)";
    const std::string b
        = "void at::native::elementwise_kernel<128, 2, at::native::gpu_kernel_impl_nocast<at::native::"
          "direct_copy_kernel_cuda(at::TensorIteratorBase&)::{lambda()#3}::operator()() const::{lambda()"
          "#7}::operator()() const::{lambda(float)#1}>(at::TensorIteratorBase&)::{lambda(int)#1}>(int)";
    CHECK(compactKernelName(a) == compactKernelName(b));
    const auto names = compactKernelNames({ a, b, "void k<4>(int)" });
    REQUIRE(names.size() == 3);
    CHECK(names[0] != names[1]);
    CHECK_THAT(names[0], Catch::Contains("lambda(long)#1"));
    CHECK_THAT(names[1], Catch::Contains("lambda(float)#1"));
    CHECK(names[2] == "k<4>");
    // Alike even then: the whole names.
    const auto same = compactKernelNames({ "void k<4>(int)", "void k<4>(float)" });
    CHECK(same == std::vector<std::string> { "void k<4>(int)", "void k<4>(float)" });
}

TEST_CASE("compactKernelName: PyTorch and cuDNN names lose return type, parameters and qualifiers", "[format]")
{
    CHECK(compactKernelName("void at::native::vectorized_elementwise_kernel<4, at::native::FillFunctor<float>, "
                            "std::array<char*, 1ul> >(int, at::native::FillFunctor<float>, std::array<char*, 1ul>)")
        == "vectorized_elementwise_kernel<4, FillFunctor<float>, array<char*, 1ul>>");
    // "(anonymous namespace)" is no parameter list; a lambda keeps the function that owns it.
    CHECK(compactKernelName("void at::native::(anonymous namespace)::max_pool_forward_nchw<float, int>(int, float "
                            "const*, long, float*, long*)")
        == "max_pool_forward_nchw<float, int>");
    CHECK(compactKernelName("void at::native::vectorized_elementwise_kernel<4, at::native::(anonymous "
                            "namespace)::launch_clamp_scalar(at::TensorIteratorBase&, c10::Scalar, c10::Scalar, "
                            "at::native::detail::ClampLimits)::{lambda()#1}::operator()() const::{lambda()#7}::"
                            "operator()() const::{lambda(float)#1}, std::array<char*, 2ul> >(int, "
                            "at::native::(anonymous namespace)::launch_clamp_scalar(at::TensorIteratorBase&)::"
                            "{lambda()#1}, std::array<char*, 2ul>)")
        == "vectorized_elementwise_kernel<4, launch_clamp_scalar::lambda, array<char*, 2ul>>");
    // C names and names without templates stay as they are.
    CHECK(compactKernelName("sm90_xmma_fprop_implicit_gemm_f32f32_tf32f32_f32_nhwckrsc_nhwc_kernel__5x_cudnn")
        == "sm90_xmma_fprop_implicit_gemm_f32f32_tf32f32_f32_nhwckrsc_nhwc_kernel__5x_cudnn");
    CHECK(compactKernelName("triad_fp64") == "triad_fp64");
    // A qualifier goes with its template arguments; the return type before the name goes, even a template's; a
    // word that starts with "const" stays.
    CHECK(compactKernelName("void ns::Outer<float>::inner_kernel<4>(float*)") == "inner_kernel<4>");
    CHECK(compactKernelName("std::enable_if<true, void>::type kern<float>(float*)") == "kern<float>");
    CHECK(compactKernelName("void foo<int, constant_t>(int)") == "foo<int, constant_t>");
    CHECK(compactKernelName("void k<cub::DeviceReducePolicy<float, int>::Policy600>(int)") == "k<Policy600>");
    CHECK(compactKernelName("void cudnn::bn_bw_1C11_singleread<float, 512, true, 1, 2, 0>(cudnn::bn_bw_1C11_args<"
                            "float>)")
        == "bn_bw_1C11_singleread<float, 512, true, 1, 2, 0>");
}

TEST_CASE("shortCallPath: short function names, compact kernels, the innermost end kept", "[format]")
{
    ReportRow r;
    r.kind = "path-kernel";
    r.path = { "main", "(anonymous namespace)::train(Model&, int)", "step", "forward",
        "void at::native::vectorized_elementwise_kernel<4, at::native::FillFunctor<float>, std::array<char*, 1ul> >"
        "(int, at::native::FillFunctor<float>, std::array<char*, 1ul>)" };
    r.pathFrames = { true, true, false, false, false };
    const auto compact = compactKernelNameMap({ r.path.back() });
    CHECK(callPathEntry(r, 1) == "train");
    CHECK(callPathEntry(r, 4, &compact) == "vectorized_elementwise_kernel<4, FillFunctor<float>, array<char*, 1ul>>");
    CHECK(callPathEntry(r, 4) == r.path.back()); // not listed: whole
    const std::string whole = "main > train > step > forward > vectorized_elementwise_kernel<4, FillFunctor<float>, "
                              "array<char*, 1ul>>";
    CHECK(shortCallPath(r, 200, &compact) == whole);
    // Narrower: the first entry, "...", and the innermost entries that fit.
    CHECK(shortCallPath(r, whole.size() - 1, &compact)
        == "main > ... > step > forward > vectorized_elementwise_kernel<4, FillFunctor<float>, array<char*, 1ul>>");
    // The item alone too long: its middle is cut, not its start.
    const std::string narrow = shortCallPath(r, 40, &compact);
    CHECK(narrow.size() == 40);
    CHECK(narrow.rfind("... > vectorized_", 0) == 0);
    CHECK(narrow.substr(narrow.size() - 5) == "1ul>>");
    // A kernel launched outside every range, alone on its path: its middle is cut, not its start.
    ReportRow alone = r;
    alone.path = { r.path.back() };
    alone.pathFrames = { false };
    const std::string one = shortCallPath(alone, 30, &compact);
    CHECK(textWidth(one) == 30);
    CHECK(one.rfind("vectorized_", 0) == 0);
    CHECK(one.substr(one.size() - 5) == "1ul>>");
    // Width counts characters, not bytes: 29 of them fit in 30 columns whole.
    ReportRow wide;
    wide.kind = "path";
    wide.path = { "a", "" };
    for (int i = 0; i < 25; ++i)
        wide.path[1] += "é";
    wide.pathFrames = { false, false };
    CHECK(shortCallPath(wide, 30) == "a > " + wide.path[1]);
    CHECK(shortCallPath(ReportRow {}, 10).empty());
    // A region at the end is itself.
    r.kind = "path";
    r.path.back() = "optimizer";
    r.pathFrames.back() = false;
    CHECK(shortCallPath(r, 200) == "main > train > step > forward > optimizer");
}
