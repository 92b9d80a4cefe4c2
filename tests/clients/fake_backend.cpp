// SPDX-License-Identifier: MIT
// A stand-in for librooftime_cupti.so (same file name, in a test folder named by ROOFTIME_PLUGIN_DIR): it hands the
// collector fixed records through the backend interface, so that loading, the launch context, the writer and the
// kernel, kernel_metric, memop and device tables are tested end to end without a GPU.
#include "backend.h"

namespace backend = rooftime::collector::backend;

namespace {

class FakeBackend final : public backend::Backend {
public:
    explicit FakeBackend(backend::Host* host)
        : m_host(host)
    { }
    const char* name() const noexcept override { return "fake"; }
    bool available() noexcept override { return true; }
    bool start(const backend::Settings& settings) noexcept override
    {
        // Called inside InitializeInjection, on the thread that initializes CUDA: where a launch would be.
        m_launch = m_host->launchContext();
        m_settings = settings;
        m_host->report("start", "fake backend started", false);
        m_host->setCountersStatus(
            "fake: " + settings.mode + " " + std::to_string(settings.counterLaunches) + " " + settings.counterSet);
        return true;
    }
    void flush(bool) noexcept override { }
    void stop() noexcept override
    {
        m_host->addDevice({ 0, "Fake GPU", "sm_90", 132 });
        backend::KernelRecord k;
        k.name = "scale(float*, float, int)";
        k.mangled = "_Z5scalePffi";
        k.grid[0] = 4096;
        k.grid[1] = k.grid[2] = 1;
        k.block[0] = 256;
        k.block[1] = k.block[2] = 1;
        k.stream = 7;
        k.startNs = m_host->nowNs();
        k.endNs = k.startNs + 1500;
        k.correlation = 42;
        k.thread = m_launch.thread;
        k.region = m_launch.region;
        k.stack = m_launch.stack;
        k.launchNs = m_launch.launchNs;
        k.replayed = true;
        k.metrics = { { "gpu__time_duration.sum", 1500, "nsecond" }, { "dram__bytes_read.sum", 4194304, "byte" } };
        std::vector<backend::KernelRecord> kernels;
        kernels.push_back(k);
        k.metrics.clear();
        k.replayed = false;
        k.correlation = 43;
        k.graphId = 3; // a kernel node of a graph launch
        k.graphNodeId = 0x100000005ull;
        kernels.push_back(k);
        m_host->addKernels(std::move(kernels));
        backend::MemoryRecord m;
        m.kind = backend::MemoryRecord::Kind::Copy;
        m.copyKind = 2;
        m.bytes = 4;
        m.startNs = k.endNs;
        m.endNs = k.endNs + 100;
        m.correlation = 44;
        m_host->addMemoryOps({ m });
        m_host->report("stop", "fake backend: a problem worth one line", true);
        m_host->report("stop", "fake backend: a problem worth one line", true);
    }
    // On the exiting thread, before stop() on the helper: said in the profile with the thread it ran on.
    void beforeExit() noexcept override
    {
        m_host->report("exit",
            std::string("fake backend: beforeExit on ")
                + (m_host->launchContext().thread == m_launch.thread ? "the launching thread" : "another thread"),
            false);
    }
    void forkChild() noexcept override { }

private:
    backend::Host* m_host;
    backend::LaunchContext m_launch;
    backend::Settings m_settings;
};

} // namespace

extern "C" __attribute__((visibility("default"))) backend::Backend* rooftime_backend_create(
    int abiVersion, backend::Host* host)
{
    if (abiVersion != backend::kAbiVersion) return nullptr;
    static FakeBackend fake(host);
    return &fake;
}
