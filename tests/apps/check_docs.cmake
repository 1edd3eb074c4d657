# docs/decks.md must contain, verbatim, what `<app> --deck-reference` prints: the docs cannot
# drift from the schema the app validates against.
#   cmake -DAPP=<exe> -DDOC=<docs/decks.md> -P check_docs.cmake
execute_process(COMMAND ${APP} --deck-reference RESULT_VARIABLE rc OUTPUT_VARIABLE ref)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "${APP} --deck-reference failed (${rc})")
endif()
file(READ ${DOC} doc)
string(FIND "${doc}" "${ref}" pos)
if(pos EQUAL -1)
  message(FATAL_ERROR "${DOC} is out of date: regenerate its section with\n  ${APP} --deck-reference\n--- expected section ---\n${ref}")
endif()
