// SPDX-License-Identifier: MIT
// Real GPU data on a machine without a GPU: the profiles, Nsight Compute CSVs and machine file that
// tools/device-check.sh recorded on an H200 (tests/data/gpu/README.md says how). The checks are the device check's
// own, made permanent: rooftime's counters agree with Nsight Compute's for the same launches, the work of the
// samples is what their arithmetic says, kernels keep their threads, ranges and call paths.
#include "report_json.h"
#include "sql_one.h"

#include <algorithm>
#include <cmath>
#include <map>

using namespace rooftime::test;

namespace {

const char* const kSamples[] = { "triad", "gemm", "hfma2", "wmma_gemm", "conv2d", "lstm_chain" };

std::string h200()
{
    return testData("machines/nvidia-h200-vm.json");
}

/// `report --by kernel --format json` rows by kernel name.
std::map<std::string, nlohmann::json> kernelRows(const std::string& profile, bool withMachine = false)
{
    std::vector<std::string> argv { rooftimeBin(), "report", "--by", "kernel", "--format", "json" };
    if (withMachine) {
        argv.push_back("--machine");
        argv.push_back(h200());
    }
    argv.push_back(profile);
    const RunResult r = run(argv);
    INFO(profile << ": " << r.err);
    REQUIRE(r.status == 0);
    std::map<std::string, nlohmann::json> rows;
    const auto report = nlohmann::json::parse(r.out); // named: a temporary would die before the loop body runs
    for (const auto& row : report["rows"])
        if (row["kind"] == "kernel") rows[row["name"].get<std::string>()] = row;
    return rows;
}

/// The Nsight Compute CSV of @p sample imported into the test's scratch folder.
std::string importNcu(const std::string& dir, const std::string& sample)
{
    const std::string out = dir + "/" + sample + ".rtdb";
    const RunResult r = run({ rooftimeBin(), "import", "ncu", testData("gpu/ncu/" + sample + ".csv"), "-o", out });
    INFO(r.err);
    REQUIRE(r.status == 0);
    return out;
}

double perLaunch(const nlohmann::json& row, const char* key)
{
    return row[key].get<double>() / row["count"].get<double>();
}

/// Mean of a raw counter per launch of kernel @p name (over the launches that have it).
double counterPerLaunch(const std::string& profile, const std::string& kernel, const std::string& counter)
{
    const std::string v = sqlOne(profile,
        "SELECT avg(m.value) FROM kernel_metric m JOIN kernel k ON k.id = m.kernel JOIN string kn ON kn.id = k.name"
        " JOIN string mn ON mn.id = m.metric WHERE kn.text = '"
            + kernel + "' AND mn.text = '" + counter + "'");
    REQUIRE_FALSE(v.empty());
    return std::stod(v);
}

} // namespace

TEST_CASE("H200 recordings: FLOPs per launch of every sample kernel equal Nsight Compute's", "[gpu-data]")
{
    const std::string dir = scratchDir("gpu-data-flops");
    std::size_t kernels = 0;
    for (const std::string sample : kSamples) {
        INFO("sample " << sample);
        const auto ncu = kernelRows(importNcu(dir, sample), true);
        const auto ours = kernelRows(testData("gpu/counters/" + sample + ".rtdb"));
        REQUIRE_FALSE(ncu.empty());
        CHECK(ours.size() == ncu.size());
        for (const auto& [name, n] : ncu) {
            INFO("kernel " << name);
            auto it = ours.find(name);
            REQUIRE(it != ours.end());
            const nlohmann::json& o = it->second;
            CHECK(o["count"] == n["count"]); // every launch timed
            CHECK(o["replayed"].get<int>() >= 1);
            CHECK(o["replayed"].get<int>() <= 3); // the first K = 3 launches of each kernel, not more
            // Measured on the first launches and scaled: exact for these launch-invariant kernels.
            REQUIRE(o["flops"].is_number()); // a kernel none of whose values came has no FLOPs
            CHECK(perLaunch(o, "flops") == Approx(perLaunch(n, "flops")).epsilon(1e-12));
            for (const auto& [cls, v] : n["flops_by_class"].items())
                CHECK(o["flops_by_class"][cls].get<double>() / o["count"].get<double>()
                    == Approx(v.get<double>() / n["count"].get<double>()).epsilon(1e-12));
            ++kernels;
        }
    }
    CHECK(kernels == 12);
}

TEST_CASE("H200 recordings: the samples' arithmetic, as counted by the GPU", "[gpu-data]")
{
    // dgemm --n 512: 2·n³ FLOPs per launch, naive and tiled alike; fp64 only.
    const auto gemm = kernelRows(testData("gpu/counters/gemm.rtdb"));
    for (const char* k : { "dgemm_naive", "dgemm_tiled" }) {
        INFO(k);
        REQUIRE(gemm.count(k));
        CHECK(perLaunch(gemm.at(k), "flops") == 2.0 * 512 * 512 * 512);
        CHECK(gemm.at(k)["flops_by_class"]["fp64"].get<double>() == gemm.at(k)["flops"].get<double>());
    }
    // wmma_gemm calls cuBLAS for n = 2048 in fp16: its nvjet kernel's HGMMA operations are 2·n³ fp16 tensor FLOPs.
    const auto wmma = kernelRows(testData("gpu/counters/wmma_gemm.rtdb"));
    bool cublas = false;
    for (const auto& [name, row] : wmma)
        if (name.rfind("nvjet_sm90", 0) == 0) {
            cublas = true;
            CHECK(perLaunch(row, "flops") == 2.0 * 2048 * 2048 * 2048);
            CHECK(row["flops_by_class"]["fp16 tensor"].get<double>() == row["flops"].get<double>());
        }
    CHECK(cublas);
    // The sample's own WMMA kernel compiles to mma.sync (HMMA), whose operations Tier 1 does not count: the report
    // says the tensor pipe was busy instead of showing a tensor kernel without tensor work.
    REQUIRE(wmma.count("wmma_gemm_f16f32"));
    const auto& hmma = wmma.at("wmma_gemm_f16f32");
    CHECK(hmma["flops"].get<double>() == 0);
    REQUIRE(hmma["tensor_uncounted_instructions"].is_number());
    CHECK(hmma["tensor_uncounted_instructions"].get<double>() > 0);
    for (const auto& [name, row] : wmma)
        if (name != "wmma_gemm_f16f32") CHECK(row["tensor_uncounted_instructions"].is_null());
    // triad --n 16777216 reads two arrays per launch: exactly their bytes from HBM (the lines of one launch do not
    // survive in a 60 MB L2), in rooftime's counters and Nsight Compute's alike. Writes depend on what the replay
    // left dirty in L2 (docs/cupti.md), so only reads are exact.
    const std::string dir = scratchDir("gpu-data-triad");
    const std::string ncu = importNcu(dir, "triad");
    const double n = 16777216;
    for (const auto& [kernel, size] : { std::pair { "triad_fp64", 8.0 }, std::pair { "triad_fp32", 4.0 } }) {
        INFO(kernel);
        const double expected = 2 * n * size;
        CHECK(counterPerLaunch(testData("gpu/counters/triad.rtdb"), kernel, "dram__bytes_read.sum")
            == Approx(expected).epsilon(1e-3));
        CHECK(counterPerLaunch(ncu, kernel, "dram__bytes_read.sum") == Approx(expected).epsilon(1e-3));
    }
    // Their FLOPs are the arithmetic's, 2n per launch (one FMA per element), and sgemm's 2·n³: each thread also ran
    // an HFMA2.MMA constant load (one HFMA per thread, one tensor-pipe instruction per warp), which is no fp16 work
    // and no tensor work (no warning).
    const auto triad = kernelRows(testData("gpu/counters/triad.rtdb"));
    for (const char* k : { "triad_fp64", "triad_fp32" }) {
        INFO(k);
        REQUIRE(triad.count(k));
        CHECK(perLaunch(triad.at(k), "flops") == 2 * n);
        CHECK(triad.at(k)["flops_by_class"]["fp16"].get<double>() == 0);
        CHECK(perLaunch(triad.at(k), "hfma_moves_uncounted") == 1056.0 * 256); // one per thread of the grid
        CHECK(triad.at(k)["tensor_uncounted_instructions"].is_null());
    }
    for (const char* k : { "sgemm_naive", "sgemm_tiled" }) {
        INFO(k);
        CHECK(perLaunch(gemm.at(k), "flops") == 2.0 * 512 * 512 * 512);
        CHECK(gemm.at(k)["flops_by_class"]["fp16"].get<double>() == 0);
    }
    // The sample's regions declare the same 2·n³ around each kernel: GPU work, judged against gpu0's roofs with
    // their bytes at HBM, not against the CPU's (the region's instances launched kernels on gpu0 only).
    const auto regions = reportJson({ testData("gpu/time/gemm.rtdb"), "--by", "range" });
    const nlohmann::json* dgemm = findRow(regions, "dgemm_naive");
    REQUIRE(dgemm);
    CHECK((*dgemm)["device"] == "gpu0");
    CHECK((*dgemm)["bytes_by_level"].contains("HBM"));
    CHECK((*dgemm)["roof"]["binding"] == "fp64");
    const auto paths = reportJson({ testData("gpu/time/gemm.rtdb"), "--by", "callpath" }); // findRow points into it
    const nlohmann::json* path = findRow(paths, "dgemm_naive");
    REQUIRE(path);
    CHECK((*path)["device"] == "gpu0");
    // The same in windows (bytes at HBM, the floor from the kernel launches alone) and per rank (gpu0's row takes
    // the declared work where no counters ran; the CPU's row has none).
    const auto windows = reportJson({ testData("gpu/time/gemm.rtdb"), "--window", "20ms" });
    double windowFlops = 0;
    for (const auto& w : windows["rows"]) {
        if (w["flops"].is_null()) continue;
        windowFlops += w["flops"].get<double>();
        CHECK(w["device"] == "gpu0");
        CHECK(w["bytes_by_level"].contains("HBM"));
        CHECK(w["roof"]["binding"] == "fp64");
        CHECK(w["roof"]["floor_s"].get<double>() < w["roof"]["compute_time_s"].get<double>());
    }
    CHECK(windowFlops == 4 * 2 * 2.0 * 512 * 512 * 512);
    const auto ranks = reportJson({ testData("gpu/time/gemm.rtdb"), "--by", "rank" });
    for (const auto& r : ranks["rows"]) {
        INFO(r["name"]);
        if (r["kind"] == "rank") CHECK(r["flops"].is_null());
        if (r["kind"] == "rank-gpu") CHECK(r["flops"].get<double>() == 4 * 2 * 2.0 * 512 * 512 * 512);
    }
    // Two instances at the H200's 33.4 TFLOP/s fp64 roof (the CPU's 393 GFLOP/s would give 2.7 ms).
    CHECK((*dgemm)["flops"].get<double>() == 2 * 2.0 * 512 * 512 * 512);
    CHECK(
        (*dgemm)["roof"]["compute_time_s"].get<double>() == Approx(2 * 2.0 * 512 * 512 * 512 / 33.4e12).epsilon(0.05));
    // hfma2_chain's HFMA2 are real half2 arithmetic on the FMA pipe: counted.
    const auto hfma2 = kernelRows(testData("gpu/counters/hfma2.rtdb"));
    REQUIRE(hfma2.count("hfma2_chain"));
    CHECK(hfma2.at("hfma2_chain")["flops_by_class"]["fp16"].get<double>() > 0);
    CHECK(hfma2.at("hfma2_chain")["hfma_moves_uncounted"].get<double>() == 0);
    const RunResult text = run({ rooftimeBin(), "report", testData("gpu/counters/triad.rtdb"), "--by", "kernel" });
    CHECK(text.out.find("tensor-core instructions") == std::string::npos);
    std::string flat = text.out; // the text report wraps its paragraphs
    std::replace(flat.begin(), flat.end(), '\n', ' ');
    CHECK_THAT(flat, Catch::Contains("In 2 kernel rows the HFMA instructions all ran on the tensor pipe"));
}

TEST_CASE("H200 recordings: kernel times of both modes match Nsight Compute's for kernels above 10 us", "[gpu-data]")
{
    const std::string dir = scratchDir("gpu-data-times");
    std::size_t compared = 0;
    for (const std::string sample : kSamples) {
        INFO("sample " << sample);
        const auto ncu = kernelRows(importNcu(dir, sample), true);
        const auto ours = kernelRows(testData("gpu/time/" + sample + ".rtdb"));
        // Counters mode: replayed launches have no activity time; their gpu__time_duration stands in.
        const auto counters = kernelRows(testData("gpu/counters/" + sample + ".rtdb"));
        for (const auto& [name, n] : ncu) {
            INFO("kernel " << name);
            REQUIRE(ours.count(name));
            const double nt = perLaunch(n, "time_s");
            // Below ~10 us the two clocks differ by a fixed ~1 us (Nsight Compute's gpu__time_duration includes
            // launch work that CUPTI's activity record does not; docs/cupti.md).
            if (nt < 10e-6) continue;
            CHECK(perLaunch(ours.at(name), "time_s") == Approx(nt).epsilon(0.10));
            REQUIRE(counters.count(name));
            CHECK(perLaunch(counters.at(name), "time_s") == Approx(nt).epsilon(0.10));
            ++compared;
        }
    }
    CHECK(compared == 11);
}

TEST_CASE("H200 recordings: kernels keep their launching threads, NVTX ranges and call paths", "[gpu-data]")
{
    // lstm_chain --threads 2: every kernel from one of the two launching threads, none unknown.
    const std::string chain = testData("gpu/time/lstm_chain.rtdb");
    CHECK(sqlOne(chain, "SELECT count(*) FROM kernel") == "200");
    CHECK(sqlOne(chain, "SELECT count(DISTINCT thread) FROM kernel") == "2");
    CHECK(sqlOne(chain, "SELECT count(*) FROM kernel WHERE thread = 0") == "0");
    // --call-stacks: lstm_gemv under main > run > lstm_chain, ten launches.
    const RunResult r = run(
        { rooftimeBin(), "report", "--by", "callpath", "--format", "json", testData("gpu/stacks/lstm_chain.rtdb") });
    REQUIRE(r.status == 0);
    bool found = false;
    const auto paths = nlohmann::json::parse(r.out);
    for (const auto& row : paths["rows"]) {
        const auto path = row["path"].get<std::vector<std::string>>();
        if (row["kind"] == "path-kernel" && !path.empty() && path.back() == "lstm_gemv") {
            found = true;
            CHECK(row["count"] == 10);
            // Inside the sample's marker region "lstm_chain", below the functions that opened it. Function names
            // need the program at its recorded path (the GPU machine's, docs/cli.md): where it is, the path is
            // main > (anonymous namespace)::run(int, char**) > lstm_chain > the lane's lambda > lstm_gemv; elsewhere
            // (CI) every frame reads MODULE+0xOFFSET, of the sample or the C library.
            CHECK(std::find(path.begin(), path.end(), "lstm_chain") != path.end());
            const bool named = std::none_of(
                path.begin(), path.end(), [](const std::string& e) { return e.find("+0x") != std::string::npos; });
            if (named) {
                REQUIRE(path.size() == 5);
                CHECK(std::vector<std::string>(path.begin(), path.begin() + 3)
                    == std::vector<std::string> { "main", "(anonymous namespace)::run(int, char**)", "lstm_chain" });
                CHECK(path[3].rfind("(anonymous namespace)::run(int, char**)::{lambda(", 0) == 0);
            } else {
                CHECK(path.size() > 3);
                for (std::size_t i = 0; i + 1 < path.size(); ++i) {
                    INFO(path[i]);
                    CHECK((path[i] == "lstm_chain" || path[i].rfind("lstm_chain+0x", 0) == 0
                        || path[i].rfind("libc.so.6+0x", 0) == 0));
                }
            }
        }
    }
    CHECK(found);
    // The PyTorch CNN: 110 steps (10 warm-up) of NVTX ranges, kernels launched by the main thread and autograd's device
    // thread; the forward pass's kernels (main thread) are inside step > forward.
    const std::string cnn = testData("gpu/python/cnn_train-time.rtdb");
    const auto ranges = reportJson({ cnn, "--by", "range" });
    // A GPU run's time is in its kernels: `report` shows them by default; a run without kernels shows its regions.
    CHECK(reportJson({ cnn })["by"] == "kernel");
    CHECK(reportJson({ testData("profiles/golden-v1.0.rtdb") })["by"] == "range");
    // Kernels without counters inside regions that declare the work: the regions, where the work is known.
    CHECK(reportJson({ testData("gpu/time/gemm.rtdb") })["by"] == "range");
    CHECK(reportJson({ testData("gpu/counters/gemm.rtdb") })["by"] == "kernel");
    for (const char* name : { "step", "forward", "backward", "optimizer" }) {
        const nlohmann::json* row = findRow(ranges, name);
        REQUIRE(row);
        CHECK((*row)["count"] == 110);
    }
    CHECK(sqlOne(cnn, "SELECT count(DISTINCT thread) FROM kernel") == "2");
    const std::string forward = sqlOne(cnn,
        "SELECT count(*) FROM kernel k JOIN region r ON r.thread = k.thread AND r.seq = k.region"
        " JOIN string s ON s.id = r.name WHERE s.text = 'forward'");
    CHECK(std::stoi(forward) >= 110 * 20); // every step's forward pass launches at least 20 kernels
}

TEST_CASE("H200 recordings: a region's GPU work has one verdict in every view, floored by its launches", "[gpu-data]")
{
    // lstm_chain's region declares its work and launches 20 kernels on gpu0: by range, by call path and as a window
    // it is judged against gpu0's roofs with a floor of 20 launches, alike.
    const std::string file = testData("gpu/stacks/lstm_chain.rtdb");
    std::vector<double> efficiency, floor;
    for (const std::vector<std::string>& view :
        { std::vector<std::string> { "--by", "range" }, { "--by", "callpath" }, { "--window-range", "lstm_chain" } }) {
        std::vector<std::string> args { file };
        args.insert(args.end(), view.begin(), view.end());
        const auto j = reportJson(args);
        for (const auto& r : j["rows"]) {
            if (r["kind"] == "path-kernel" || r["flops"].is_null()) continue;
            INFO(view[1] << " " << r["name"]);
            CHECK(r["device"] == "gpu0");
            efficiency.push_back(r["roof"]["efficiency"].get<double>());
            floor.push_back(r["roof"]["floor_s"].get<double>());
        }
    }
    REQUIRE(efficiency.size() == 3);
    for (std::size_t i = 1; i < 3; ++i) {
        CHECK(efficiency[i] == Approx(efficiency[0]));
        CHECK(floor[i] == Approx(floor[0]));
    }
    CHECK(floor[0] > 20 * 1e-6); // 20 launches of several microseconds each
    // Its lstm_cell launches (0.8 us each, below the 5.3 us floor) are launch-bound on their call path too.
    const auto paths = reportJson({ file, "--by", "callpath" });
    bool cell = false;
    for (const auto& r : paths["rows"])
        if (r["kind"] == "path-kernel" && r["path"].back() == "lstm_cell") {
            cell = true;
            CHECK(r["roof"]["label"] == "launch");
            CHECK(r["roof"]["efficiency"].get<double>() == 1.0);
        }
    CHECK(cell);
}

TEST_CASE("H200 recordings: launches whose replay values were dropped count at their kernel's mean time", "[gpu-data]")
{
    // Session 5's PyTorch LSTM in counters mode (kept for this): cuDNN's fills between kernels added ranges, so 15
    // replayed launches lost their values, their time with them (duration 0, not marked replayed). Later runs
    // pause around fills and lose none.
    const std::string lstm = testData("gpu/python/lstm_train-counters-s5.rtdb");
    CHECK(sqlOne(lstm, "SELECT count(*) FROM kernel WHERE duration_ns = 0 AND NOT replayed") == "15");
    std::uint64_t untimed = 0;
    int rows = 0, withTimed = 0;
    for (const auto& [name, row] : kernelRows(lstm)) {
        const auto u = row["untimed"].get<std::uint64_t>();
        if (u == 0) {
            CHECK(row["sources"]["time"] == "timed");
            continue;
        }
        INFO(name);
        untimed += u;
        ++rows;
        CHECK(row["sources"]["time"] == "estimated");
        // With some timed launches: time_s holds every launch at their mean, so it exceeds the timed ones' sum.
        if (u < row["count"].get<std::uint64_t>()) {
            ++withTimed;
            const std::string timedNs = sqlOne(lstm,
                "SELECT sum(CASE WHEN k.duration_ns > 0 THEN k.duration_ns ELSE (SELECT m.value FROM kernel_metric m"
                " JOIN string s ON s.id = m.metric WHERE m.kernel = k.id AND s.text = 'gpu__time_duration.sum') END)"
                " FROM kernel k JOIN string n ON n.id = k.name WHERE n.text = '"
                    + name + "' AND (k.duration_ns > 0 OR k.replayed)");
            const double count = row["count"].get<double>();
            CHECK(row["time_s"].get<double>()
                == Approx(std::stod(timedNs) * 1e-9 * count / (count - static_cast<double>(u))).epsilon(1e-4));
        }
    }
    CHECK(untimed == 15);
    CHECK(rows == 8);
    CHECK(withTimed == 6);
    // The two rows without any time are not "above the launch floor": the summary counts them apart.
    CHECK(reportJson({ lstm, "--by", "kernel" })["summary"]["not_analysed_no_time"] == 2);
    std::string summary = run({ rooftimeBin(), "report", lstm, "--by", "kernel" }).out;
    std::replace(summary.begin(), summary.end(), '\n', ' ');
    CHECK_THAT(
        summary, Catch::Contains("2 kernels with neither known work nor a time (replayed, the counter values lost)."));
    CHECK_THAT(summary, !Catch::Contains("launch floor (0 s)"));
    // Its steps hold the replays (4.6 s for the first against 22 ms for the last): the step view says so, the
    // kernel view (the launches' own times) does not need to.
    const RunResult steps = run({ rooftimeBin(), "report", lstm, "--window-range", "step" });
    REQUIRE(steps.status == 0);
    std::string flat = steps.out;
    std::replace(flat.begin(), flat.end(), '\n', ' ');
    CHECK_THAT(flat,
        Catch::Contains("note: a profile was recorded in counters mode: the replays of each kernel's first "
                        "launches are inside these window times"));
    CHECK(run({ rooftimeBin(), "report", lstm, "--by", "kernel" }).out.find("recorded in counters mode")
        == std::string::npos);
    // Replayed launches have no time of their own; placed by their region's start (else the launches before
    // them), they keep their work in windows: every step runs the same kernels, and one window over the whole run
    // holds the kernel view's FLOPs.
    const auto stepRows = reportJson({ lstm, "--window-range", "step" });
    REQUIRE(stepRows["rows"].size() == 4);
    CHECK(stepRows["window_range"] == "step");
    CHECK_FALSE(stepRows.contains("window_s"));
    // Two profiles, one without any step: its listing says so rather than leaving it out silently.
    const RunResult two
        = run({ rooftimeBin(), "report", lstm, testData("gpu/counters/gemm.rtdb"), "--window-range", "step" });
    REQUIRE(two.status == 0);
    CHECK(two.out.find("note: no instance of 'step': no windows from this profile") != std::string::npos);
    const auto fixedRows = reportJson({ lstm, "--window", "500ms" });
    CHECK(fixedRows["window_s"] == 0.5);
    CHECK(fixedRows["rows"].size() == 48); // 24 s
    for (const auto& s : stepRows["rows"])
        CHECK(s["flops"].get<double>() == Approx(stepRows["rows"][3]["flops"].get<double>()));
    double kernelFlops = 0;
    for (const auto& [name, k] : kernelRows(lstm))
        kernelFlops += k["flops"].is_null() ? 0.0 : k["flops"].get<double>();
    const auto whole = reportJson({ lstm, "--window", "100s" });
    REQUIRE(whole["rows"].size() == 1);
    CHECK(whole["rows"][0]["flops"].get<double>() == Approx(kernelFlops).epsilon(1e-9));
}

TEST_CASE("H200 machine file: measured ceilings in sane bounds, beside their theoretical values", "[gpu-data]")
{
    const auto m = nlohmann::json::parse(readFile(h200()));
    std::map<std::string, double> v, theory;
    for (const auto& c : m["ceilings"]) {
        if (c["device"] != "gpu0") continue;
        std::string key = c["kind"].get<std::string>() + " ";
        key += c.contains("precision") ? c["precision"].get<std::string>() + " " + c["variant"].get<std::string>()
            : c.contains("level")      ? c["level"].get<std::string>() + " " + c["pattern"].get<std::string>()
                                       : c["variant"].get<std::string>();
        v[key] = c["value"].get<double>();
        if (c["theoretical"].is_number()) theory[key] = c["theoretical"].get<double>();
    }
    // The CUDA-core FMA kernels reach their theoretical peak (fp16 half2: half of it on this chip, docs/ceilings.md).
    CHECK(v.at("compute fp64 fma") / theory.at("compute fp64 fma") == Approx(1.0).epsilon(0.05));
    CHECK(v.at("compute fp32 fma") / theory.at("compute fp32 fma") == Approx(1.0).epsilon(0.05));
    CHECK(v.at("compute fp16 fma") >= 0.45 * theory.at("compute fp16 fma"));
    // Tensor cores above CUDA cores, cuBLAS above mma.sync on Hopper; a memory hierarchy that gets faster inward.
    CHECK(v.at("compute fp16 cublas") > v.at("compute fp16 tensor"));
    CHECK(v.at("compute fp16 tensor") > 5 * v.at("compute fp32 fma"));
    CHECK(v.at("bandwidth shared read") > v.at("bandwidth L2 read"));
    CHECK(v.at("bandwidth L2 read") > 2 * v.at("bandwidth HBM read"));
    CHECK(v.at("bandwidth HBM read") / theory.at("bandwidth HBM read") == Approx(1.0).epsilon(0.05));
    CHECK(v.at("launch back_to_back") > 1e-6);
    CHECK(v.at("launch back_to_back") < 50e-6);
    // The clock the GPU ran at, beside the table's maximum.
    const auto& clocks = m["gpus"][0]["clocks"];
    CHECK(clocks["sm_measured_hz"].get<double>() == Approx(clocks["sm_max_hz"].get<double>()).epsilon(0.05));
    // A report with this file has roofs for the recorded kernels.
    const auto rows = kernelRows(testData("gpu/counters/triad.rtdb"), true);
    REQUIRE(rows.count("triad_fp64"));
    CHECK(rows.at("triad_fp64")["roof"]["binding"] == "HBM");
    // Session 5's file took its CPU clock from the VM's skewed timer (8.862 GHz on a 2.1 GHz Xeon): --show says so.
    // This one measures it by the FMA chain (2.72 GHz, turbo of a 2.1 GHz Xeon) and shows the GPU's own peaks
    // (CUPTI's peak_sustained at the clock under counters) beside the measured ceilings.
    const RunResult old = run({ rooftimeBin(), "ceilings", "--show", testData("machines/nvidia-h200-vm-1.0.json") });
    CHECK_THAT(old.out, Catch::Contains("warning: the measured clock 8.862 GHz is implausible"));
    const RunResult show = run({ rooftimeBin(), "ceilings", "--show", h200() });
    CHECK(show.status == 0);
    CHECK(show.out.find("is implausible") == std::string::npos);
    CHECK_THAT(show.out, Catch::Contains("counters  ratio"));
    // Its L2 read ceiling (20.6 TB/s) is above the L2's own peak (15.4 TB/s): the sweep of that run let blocks
    // reread their neighbours' data. --show says so, of that ceiling alone.
    CHECK_THAT(show.out,
        Catch::Contains("warning: gpu0 L2 read: measured 20.6 TB/s is 134% of the GPU's own peak for it (15.4 TB/s, "
                        "from its counters): too high; most likely a faster level served part of its sweep"));
    CHECK(show.out.find("warning: gpu0 HBM") == std::string::npos);
    const double cpuHz = m["cpu"]["clocks"]["measured_hz"].get<double>();
    CHECK(cpuHz > 2.0e9);
    CHECK(cpuHz < 4.0e9);
    const RunResult sound
        = run({ rooftimeBin(), "ceilings", "--show", testData("machines/amd-epyc-zen3-2vcpu-vm.json") });
    CHECK(sound.status == 0);
    CHECK(sound.out.find("is implausible") == std::string::npos);
}

TEST_CASE("H200 recordings: a CUDA graph's kernels carry their graph, thread and region, in both modes", "[gpu-data]")
{
    // lstm_chain --graph --steps 40: 80 kernels captured into one graph, launched once from the lstm_chain region.
    // Counters mode pauses around the graph launch (none replayed) and made no profiler call during the capture
    // (the program's captured launches used to fail with cudaErrorStreamCaptureInvalidated).
    for (const char* mode : { "time", "counters" }) {
        INFO(mode);
        const std::string p = testData(std::string("gpu/graph/lstm_chain-") + mode + ".rtdb");
        CHECK(sqlOne(p,
                  "SELECT count(*) || ' ' || count(graph_id) || ' ' || count(DISTINCT graph_id) || ' ' || count(thread)"
                  " || ' ' || count(region) || ' ' || sum(replayed) || ' ' || sum(duration_ns > 0) FROM kernel")
            == "80 80 1 80 80 0 80");
        const auto regions = reportJson({ p, "--by", "range" });
        const nlohmann::json* region = findRow(regions, "lstm_chain");
        REQUIRE(region);
        CHECK((*region)["count"] == 1);
    }
    // Kernels launched one by one carry no graph.
    for (const std::string sample : kSamples)
        for (const char* mode : { "time", "counters" }) {
            INFO(sample << " " << mode);
            CHECK(sqlOne(testData("gpu/" + std::string(mode) + "/" + sample + ".rtdb"),
                      "SELECT count(graph_id) FROM kernel")
                == "0");
        }
}

TEST_CASE("H200 recordings: Tier 2 counts the mma.sync work Tier 1 warns about", "[gpu-data]")
{
    // wmma_gemm --iters 2 (n = 2048): WMMA's HMMA and cuBLAS's HGMMA kernel, 2 n^3 tensor FLOPs per launch each.
    const double expected = 2.0 * 2048 * 2048 * 2048;
    const auto tier2 = kernelRows(testData("gpu/counters/wmma_gemm-tier2.rtdb"));
    REQUIRE(tier2.size() == 2);
    for (const auto& [name, row] : tier2) {
        INFO(name);
        CHECK(perLaunch(row, "flops") == Approx(expected).epsilon(1e-9));
        CHECK(row["flops_by_class"]["fp16 tensor"].get<double>() == Approx(2 * expected).epsilon(1e-9));
    }
    // Tier 1 counts cuBLAS's wgmma (HGMMA) but not WMMA's mma.sync, and says so.
    const auto tier1 = kernelRows(testData("gpu/counters/wmma_gemm.rtdb"));
    REQUIRE(tier1.count("wmma_gemm_f16f32"));
    CHECK(tier1.at("wmma_gemm_f16f32")["flops"].get<double>() == 0);
    const RunResult text = run({ rooftimeBin(), "report", testData("gpu/counters/wmma_gemm.rtdb") });
    REQUIRE(text.status == 0);
    std::string flat = text.out;
    std::replace(flat.begin(), flat.end(), '\n', ' ');
    CHECK_THAT(
        flat, Catch::Contains("1 kernel ran tensor-core instructions whose operations these counters do not count"));
}
