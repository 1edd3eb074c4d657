# tessera_option(NAME doc): a tri-state cache option TESSERA_WITH_<NAME> = AUTO|ON|OFF.
function(tessera_option name doc)
  set(TESSERA_WITH_${name} AUTO CACHE STRING "${doc} (AUTO, ON or OFF)")
  set_property(CACHE TESSERA_WITH_${name} PROPERTY STRINGS AUTO ON OFF)
  if(NOT TESSERA_WITH_${name} MATCHES "^(AUTO|ON|OFF)$")
    message(FATAL_ERROR "TESSERA_WITH_${name}='${TESSERA_WITH_${name}}': expected AUTO, ON or OFF")
  endif()
endfunction()

# tessera_resolve(NAME found): sets TESSERA_HAVE_<NAME> from the option and whether the
# dependency was found; ON with the dependency missing is a configure error.
macro(tessera_resolve name found)
  if(TESSERA_WITH_${name} STREQUAL "OFF")
    set(TESSERA_HAVE_${name} OFF)
  elseif(${found})
    set(TESSERA_HAVE_${name} ON)
  elseif(TESSERA_WITH_${name} STREQUAL "ON")
    message(FATAL_ERROR "TESSERA_WITH_${name}=ON but its dependency was not found")
  else()
    set(TESSERA_HAVE_${name} OFF)
  endif()
endmacro()
