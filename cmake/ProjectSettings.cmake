# Flags every fanout target shares, as INTERFACE targets linked PRIVATE: no global CMAKE_CXX_FLAGS.

add_library(fanout_project_options INTERFACE)
target_compile_features(fanout_project_options INTERFACE cxx_std_20)
target_compile_options(fanout_project_options INTERFACE -Wall -Wextra -Wpedantic)
set(CMAKE_CXX_EXTENSIONS OFF)

# Sanitizers apply to every target, tests included, so the whole process is instrumented.
if(FANOUT_SANITIZE STREQUAL "address")
  target_compile_options(fanout_project_options INTERFACE
    -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer)
  target_link_options(fanout_project_options INTERFACE -fsanitize=address,undefined)
elseif(FANOUT_SANITIZE STREQUAL "thread")
  target_compile_options(fanout_project_options INTERFACE -fsanitize=thread -fno-omit-frame-pointer)
  target_link_options(fanout_project_options INTERFACE -fsanitize=thread)
elseif(NOT FANOUT_SANITIZE STREQUAL "")
  message(FATAL_ERROR "FANOUT_SANITIZE must be empty, 'address' or 'thread', not '${FANOUT_SANITIZE}'")
endif()
