# Runs on every build (cmake -P): writes build_info_values.h with the version
# and the current git commit. configure_file rewrites it only when the
# content changes, so an unchanged commit recompiles nothing.
#   -DSOURCE_DIR=<repo> -DTEMPLATE=<.h.in> -DOUTPUT=<.h> -DTCC_VERSION=<x.y.z>
set(TCC_COMMIT "$ENV{TCC_GIT_COMMIT}")
if(NOT TCC_COMMIT)
  find_program(GIT git)
  if(GIT)
    execute_process(COMMAND ${GIT} -C ${SOURCE_DIR} describe --always --dirty --abbrev=12
      OUTPUT_VARIABLE TCC_COMMIT OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET
      RESULT_VARIABLE git_result)
    if(NOT git_result EQUAL 0)
      set(TCC_COMMIT "")
    endif()
  endif()
endif()
if(NOT TCC_COMMIT)
  set(TCC_COMMIT unknown)
endif()
configure_file(${TEMPLATE} ${OUTPUT} @ONLY)
