// SPDX-License-Identifier: MIT
#pragma once

#include "rooftime/analyzer/report.h"

#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace rooftime::analyzer {

enum class OutputFormat { Text, Json, Csv };
std::optional<OutputFormat> parseOutputFormat(const std::string& text);

struct FormatOptions {
    std::size_t top = 0; ///< 0: all rows
    std::size_t width = 120; ///< text: terminal columns
};

std::string formatReport(const Report& report, OutputFormat format, const FormatOptions& options);

/// Columns @p text takes: its UTF-8 characters.
std::size_t textWidth(const std::string& text);
/// "abcdef…xyz": shortens text to at most width columns by cutting its middle (ASCII "..." marks the cut).
std::string elideMiddle(const std::string& text, std::size_t width);
/// A demangled kernel name for a narrow column: no return type, parameter lists or namespace qualifiers, lambdas as
/// "lambda": "void at::native::vectorized_elementwise_kernel<4, at::native::FillFunctor<float>, std::array<char*,
/// 1ul> >(int, …)" -> "vectorized_elementwise_kernel<4, FillFunctor<float>, array<char*, 1ul>>".
std::string compactKernelName(const std::string& full);
/// compactKernelName of each name, except where two would read alike: those keep their lambdas' parameters and
/// numbers ("lambda(long)#1"), or where still alike, their whole names.
std::vector<std::string> compactKernelNames(const std::vector<std::string>& full);
/// compactKernelNames of the distinct names among @p names: full name -> as a table shows it.
std::map<std::string, std::string> compactKernelNameMap(std::vector<std::string> names);
/// "...xyz": shortens text to at most width columns by cutting its start: call paths keep their innermost end.
std::string elideFront(const std::string& text, std::size_t width);
/// Entry @p i of a call-path row as a table shows it: a function of the host call stack without parameters or
/// qualifiers, the kernel at the end by its name in @p kernelNames (compactKernelNameMap) where listed there.
std::string callPathEntry(
    const ReportRow& row, std::size_t i, const std::map<std::string, std::string>* kernelNames = nullptr);
/// A call-path row in at most @p width columns: its entries (callPathEntry) joined by " > ", and where that is
/// too long, the first entry, "...", and as many entries from the innermost end as fit.
std::string shortCallPath(
    const ReportRow& row, std::size_t width, const std::map<std::string, std::string>* kernelNames = nullptr);
/// An efficiency in whole percent, rounded down as the thresholds compare (0.196 -> 19, not 20 under a 20 %
/// latency threshold); every view prints it so.
double efficiencyPercent(double efficiency);
/// 1234567 -> "1.23 M"; SI prefixes, three significant digits.
std::string siValue(double value);
/// Bytes with binary prefixes: "512 B", "32 KiB", "1.50 MiB", "4 GiB".
std::string humanBytes(double bytes);
/// Seconds with a readable unit: "812 ns", "3.40 us", "12.3 ms", "4.56 s".
std::string humanSeconds(double seconds);

} // namespace rooftime::analyzer
