{#-
    Parsing raw text. Raw tables are lossless text, so a value that does not parse must not
    crash the whole model: these return null instead, and the not_null / range tests on the
    staging columns then name the problem.
-#}

{#- A decimal number (`8.5`, `-3`, `1e3`, ` 42 `), else null. -#}
{% macro to_numeric(column) -%}
    case
        when trim({{ column }}) ~ '^[-+]?([0-9]+[.]?[0-9]*|[.][0-9]+)([eE][-+]?[0-9]+)?$'
            then cast(trim({{ column }}) as numeric)
    end
{%- endmacro %}

{#- A whole number, rounding `12.0`-style decimals, else null. -#}
{% macro to_integer(column) -%}
    cast(round({{ to_numeric(column) }}) as integer)
{%- endmacro %}

{#- Blank or `None` (Oura) text is missing, not a value. -#}
{% macro to_text(column) -%}
    nullif(nullif(trim({{ column }}), ''), 'None')
{%- endmacro %}

{#-
    Fitbit/Fitabase dates: `4/12/2016` (dailyActivity) or `4/12/2016 12:00:00 AM` (sleepDay),
    always month first. Returns a date; the time of day, when present, is ignored because
    both files hold one row per calendar day.
-#}
{% macro parse_fitbit_date(column) -%}
    case
        when trim({{ column }}) ~ '^[0-9]{1,2}/[0-9]{1,2}/[0-9]{4}( |$)'
            then to_date(split_part(trim({{ column }}), ' ', 1), 'MM/DD/YYYY')
    end
{%- endmacro %}

{#- Fitbit/Fitabase 12-hour timestamps: `4/12/2016 1:05:00 PM` → 2016-04-12 13:05:00. -#}
{% macro parse_fitbit_timestamp(column) -%}
    case
        when trim({{ column }}) ~ '^[0-9]{1,2}/[0-9]{1,2}/[0-9]{4} [0-9]{1,2}:[0-9]{2}:[0-9]{2} [AaPp][Mm]$'
            then cast(to_timestamp(trim({{ column }}), 'MM/DD/YYYY HH12:MI:SS AM') as timestamp)
    end
{%- endmacro %}

{#- ISO dates (`2024-01-31`), the canonical formats' `date` column. -#}
{% macro parse_iso_date(column) -%}
    case
        when trim({{ column }}) ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}$'
            then cast(trim({{ column }}) as date)
    end
{%- endmacro %}

{#- The build's timestamp, stamped on rows a run writes: the watermark for downstream models. -#}
{% macro run_timestamp() -%}
    cast('{{ run_started_at.isoformat() }}' as timestamp with time zone)
{%- endmacro %}
