# switchboard_add_plugin(NAME SOURCES file.c ... [LIBRARIES lib ...] [OUTPUT_DIRECTORY dir])
#
# Builds NAME.so, a connector plugin: a MODULE library with hidden
# visibility (only SB_PLUGIN_DEFINE's entry symbol is exported), linked with
# -Wl,-z,defs so that a plugin reaching for anything but json-c, libc and
# the libraries it names fails to link, and made read-only for group and
# others (the loader refuses writable plugin files).
#
# Needs the target switchboard::sdk (the header and json-c): defined by the
# switchboard build itself, or by find_package(switchboard-sdk).
function(switchboard_add_plugin NAME)
  cmake_parse_arguments(SBP "" "OUTPUT_DIRECTORY" "SOURCES;LIBRARIES" ${ARGN})
  if(NOT SBP_SOURCES)
    message(FATAL_ERROR "switchboard_add_plugin(${NAME}): no SOURCES given")
  endif()
  add_library(${NAME} MODULE ${SBP_SOURCES})
  set_target_properties(${NAME} PROPERTIES
    PREFIX ""
    OUTPUT_NAME ${NAME}
    C_VISIBILITY_PRESET hidden
    CXX_VISIBILITY_PRESET hidden
    VISIBILITY_INLINES_HIDDEN ON)
  if(SBP_OUTPUT_DIRECTORY)
    set_target_properties(${NAME} PROPERTIES LIBRARY_OUTPUT_DIRECTORY ${SBP_OUTPUT_DIRECTORY})
  endif()
  target_link_options(${NAME} PRIVATE -Wl,-z,defs)
  target_link_libraries(${NAME} PRIVATE switchboard::sdk ${SBP_LIBRARIES})
  add_custom_command(TARGET ${NAME} POST_BUILD
    COMMAND chmod go-w $<TARGET_FILE:${NAME}>
    VERBATIM)
endfunction()
