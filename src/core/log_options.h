#pragma once

namespace sc {

enum class LogFormat { Text, Json };
enum class LogLevel { Debug, Info, Warn, Error };

}  // namespace sc
