{#-
    Parsing raw text. Raw tables are lossless text, so a value that does not parse must not
    crash the whole model: these return null instead, and `parse_errors` names every value
    that was written but did not parse, so a data test can report it with its load and row
    (never a silent null).

    Each engine parses in its own dialect (adapter.dispatch): PostgreSQL checks a value with a
    pattern and `pg_input_is_valid` before casting (its casts raise on bad input, which would
    fail the whole model), Spark's casts return null by themselves.
-#}

{#- Blank or `None` (Oura) text is missing, not a value. -#}
{% macro to_text(column) -%}
    nullif(nullif(trim({{ column }}), ''), 'None')
{%- endmacro %}

{#- Whether a text expression matches a regular expression. -#}
{% macro matches(expression, pattern) -%}
    {{ return(adapter.dispatch('matches', 'wearable')(expression, pattern)) }}
{%- endmacro %}

{% macro postgres__matches(expression, pattern) -%}
    ({{ expression }} ~ '{{ pattern }}')
{%- endmacro %}

{% macro default__matches(expression, pattern) -%}
    ({{ expression }} rlike '{{ pattern }}')
{%- endmacro %}

{#- Whether PostgreSQL can read the text as `type` (guards casts that would raise). -#}
{% macro is_valid_input(expression, type) -%}
    {{ return(adapter.dispatch('is_valid_input', 'wearable')(expression, type)) }}
{%- endmacro %}

{% macro postgres__is_valid_input(expression, type) -%}
    pg_input_is_valid({{ expression }}, '{{ type }}')
{%- endmacro %}

{% macro default__is_valid_input(expression, type) -%}
    true
{%- endmacro %}

{#- The exact decimal type (numeric on PostgreSQL; Fitbit writes 15 significant digits). -#}
{% macro decimal_type() -%}
    {{ return(adapter.dispatch('decimal_type', 'wearable')()) }}
{%- endmacro %}

{% macro postgres__decimal_type() -%}
    numeric
{%- endmacro %}

{% macro default__decimal_type() -%}
    decimal(38, 15)
{%- endmacro %}

{#- A decimal number (`8.5`, `-3`, `1e3`, ` 42 `), else null (also `NaN`, `Infinity`). -#}
{% macro to_numeric(column) -%}
    case
        when {{ matches('trim(' ~ column ~ ')', '^[-+]?([0-9]+[.]?[0-9]*|[.][0-9]+)([eE][-+]?[0-9]+)?$') }}
            and {{ is_valid_input('trim(' ~ column ~ ')', decimal_type()) }}
            then cast(trim({{ column }}) as {{ decimal_type() }})
    end
{%- endmacro %}

{#- A whole number that fits an integer, rounding `12.0`-style decimals, else null. Plain
    digits take a fast path (length, then a simple pattern): intraday files hold tens of
    millions of them. -#}
{% macro to_integer(column) -%}
    case
        when length({{ column }}) between 1 and 9 and {{ matches(column, '^[0-9]+$') }}
            then cast({{ column }} as {{ dbt.type_int() }})
        when abs({{ to_numeric(column) }}) < 2147483647.5
            then cast(round({{ to_numeric(column) }}) as {{ dbt.type_int() }})
    end
{%- endmacro %}

{#- A whole number that fits a bigint (counts without an upper bound), else null. -#}
{% macro to_bigint(column) -%}
    case
        when length({{ column }}) between 1 and 18 and {{ matches(column, '^[0-9]+$') }}
            then cast({{ column }} as {{ dbt.type_bigint() }})
        when abs({{ to_numeric(column) }}) < 9223372036854775807
            then cast(round({{ to_numeric(column) }}) as {{ dbt.type_bigint() }})
    end
{%- endmacro %}

{#- `True` / `False` (any case), else null. -#}
{% macro to_boolean(column) -%}
    case lower(trim({{ column }}))
        when 'true' then true
        when 'false' then false
    end
{%- endmacro %}

{#-
    Fitbit/Fitabase dates, month first: `4/12/2016` (dailyActivity) or `4/12/2016 12:00:00 AM`
    (sleepDay: the time, always midnight there, is ignored). A date that does not exist
    (`2/30/2016`, `13/45/2016`) is null.
-#}
{% macro parse_fitbit_date(column) -%}
    {{ return(adapter.dispatch('parse_fitbit_date', 'wearable')(column)) }}
{%- endmacro %}

{% macro postgres__parse_fitbit_date(column) -%}
    case
        when split_part({{ fitbit_date_text(column) }}, '/', 4) = ''
            and pg_input_is_valid({{ _fitbit_iso_date('trim(' ~ column ~ ')') }}, 'date')
            then cast({{ _fitbit_iso_date('trim(' ~ column ~ ')') }} as date)
    end
{%- endmacro %}

{#- `4/12/2016 …` → `2016-4-12`, with split_part: a regular expression costs PostgreSQL
    several times more per value (~25 µs with groups). -#}
{% macro _fitbit_iso_date(text) -%}
    concat(
        split_part(split_part({{ text }}, ' ', 1), '/', 3), '-',
        split_part({{ text }}, '/', 1), '-',
        split_part({{ text }}, '/', 2)
    )
{%- endmacro %}

{% macro default__parse_fitbit_date(column) -%}
    to_date({{ fitbit_date_text(column) }}, 'M/d/yyyy')
{%- endmacro %}

{#- The date of a Fitbit date or time as written (`4/12/2016` of `4/12/2016 1:05:00 PM`), the
    part parse_fitbit_date reads: grouping tens of millions of intraday rows by it and parsing
    each distinct day once costs a fraction of parsing every row's date. -#}
{% macro fitbit_date_text(column) -%}
    {{ return(adapter.dispatch('fitbit_date_text', 'wearable')(column)) }}
{%- endmacro %}

{% macro postgres__fitbit_date_text(column) -%}
    split_part(trim({{ column }}), ' ', 1)
{%- endmacro %}

{% macro default__fitbit_date_text(column) -%}
    substring_index(trim({{ column }}), ' ', 1)
{%- endmacro %}

{#-
    Fitbit/Fitabase local times on a 12-hour clock: `4/12/2016 1:05:00 PM` → 2016-04-12
    13:05:00 (a timestamp without time zone: Fitbit writes the wearer's wall-clock time).
    Anything else - `13/45/2016 99:00:00 PM`, a 24-hour time - is null. PostgreSQL checks the
    value as an ISO timestamp built with split_part (no DateStyle can swap day and month, and
    regular expressions cost several times more per value: the minute and heart-rate files
    hold tens of millions), then reads it with to_timestamp, which would raise on bad input.
-#}
{% macro parse_fitbit_timestamp(column) -%}
    {{ return(adapter.dispatch('parse_fitbit_timestamp', 'wearable')(column)) }}
{%- endmacro %}

{% macro postgres__parse_fitbit_timestamp(column) -%}
    case
        when split_part({{ column }}, ' ', 4) = ''
            and split_part({{ column }}, ' ', 3) in ('AM', 'PM', 'am', 'pm')
            and split_part(split_part({{ column }}, ' ', 2), ':', 1) not in ('0', '00')
            and pg_input_is_valid({{ _fitbit_iso_timestamp(column) }}, 'timestamp')
            then cast(to_timestamp({{ column }}, 'MM/DD/YYYY HH12:MI:SS AM') as timestamp)
    end
{%- endmacro %}

{#- `4/12/2016 1:05:00 PM` → `2016-4-12 1:05:00 PM`: the date made ISO (year first, so no
    DateStyle setting can swap day and month), the 12-hour time as it is. Not trimmed: these
    are the intraday files' tens of millions of values, and a time with stray spaces is
    reported rather than read. -#}
{% macro _fitbit_iso_timestamp(column) -%}
    concat(
        {{ _fitbit_iso_date(column) }},
        ' ', split_part({{ column }}, ' ', 2),
        ' ', split_part({{ column }}, ' ', 3)
    )
{%- endmacro %}

{% macro default__parse_fitbit_timestamp(column) -%}
    to_timestamp(trim({{ column }}), 'M/d/yyyy h:mm:ss a')
{%- endmacro %}

{#- ISO dates (`2024-01-31`), the canonical formats' `date` column; impossible dates are null. -#}
{% macro parse_iso_date(column) -%}
    case
        when {{ matches('trim(' ~ column ~ ')', '^[0-9]{4}-[0-9]{2}-[0-9]{2}$') }}
            and {{ is_valid_input('trim(' ~ column ~ ')', 'date') }}
            then cast(trim({{ column }}) as date)
    end
{%- endmacro %}

{#-
    The values of a row that were written but did not parse, as text for people
    (`activity_hour "13/45/2016 99:00:00 PM"; steps "--"`), or null when every value parsed.
    `checks`: (name, raw text expression, parsed expression) for each parsed value.
-#}
{% macro parse_errors(checks) -%}
    nullif(concat_ws('; '
        {%- for name, raw, parsed in checks %},
        case
            when {{ parsed }} is null and {{ to_text(raw) }} is not null
                then concat('{{ name }} "', {{ raw }}, '"')
        end
        {%- endfor %}
    ), '')
{%- endmacro %}

{#- The build's timestamp, stamped on rows a run writes, for people reading the tables. -#}
{% macro run_timestamp() -%}
    cast('{{ run_started_at.isoformat() }}' as {{ timestamp_tz_type() }})
{%- endmacro %}

{#- A point in time (PostgreSQL's timestamptz; Spark's timestamp is one already). -#}
{% macro timestamp_tz_type() -%}
    {{ return(adapter.dispatch('timestamp_tz_type', 'wearable')()) }}
{%- endmacro %}

{% macro postgres__timestamp_tz_type() -%}
    timestamp with time zone
{%- endmacro %}

{% macro default__timestamp_tz_type() -%}
    timestamp
{%- endmacro %}

{#- ---------------------------------------------------------------------------------------------
    The other vendors' values (docs/formats.md). Each macro returns null for text it cannot
    read, so the parse check can name it.
-------------------------------------------------------------------------------------------- -#}

{#- The text with a vendor's marker for "no value" (Garmin's `--`, `NaN`) turned into null,
    so that the marker is missing data rather than a value that failed to parse. -#}
{% macro missing_as_null(column, markers) -%}
    case
        when trim({{ column }}) in (
            {%- for marker in markers %}'{{ marker }}'{{ ', ' if not loop.last }}{% endfor -%}
        ) then null
        else {{ column }}
    end
{%- endmacro %}

{#- A number written with thousands separators (Garmin: `1,235`); the decimal mark is `.`. -#}
{% macro without_thousands_separators(column) -%}
    replace({{ column }}, ',', '')
{%- endmacro %}

{#-
    The wall-clock time an ISO 8601 text shows, as a timestamp without time zone: `2024-01-31
    22:39:08`, `2024-01-31T22:39:08.123`, `2024-01-31T22:39:08-06:00`. A trailing offset is
    not applied (iso_offset_minutes reads it): vendors write local times, and the local date is
    what a record is attributed to. Fractions of a second are dropped. Else null.
-#}
{% macro parse_iso_timestamp(column) -%}
    case
        when {{ matches('trim(' ~ column ~ ')', '^[0-9]{4}-[0-9]{2}-[0-9]{2}[ T][0-9]{2}:[0-9]{2}:[0-9]{2}([.][0-9]+)?(Z|[+-][0-9]{2}:?[0-9]{2})?$') }}
            and {{ is_valid_input(_iso_wall_clock(column), 'timestamp') }}
            then cast({{ _iso_wall_clock(column) }} as timestamp)
    end
{%- endmacro %}

{% macro _iso_wall_clock(column) -%}
    replace(substring(trim({{ column }}), 1, 19), 'T', ' ')
{%- endmacro %}

{#-
    A UTC offset in minutes from the ways vendors write one: `+01:00`, `-0400`, `+09`, `Z`, an
    empty offset, each optionally after `UTC` (WHOOP `UTC-04:00`, Samsung `UTC+0900`, WHOOP
    `UTCZ`). Else null.
-#}
{% macro offset_minutes(column) -%}
    {%- set text = "replace(upper(trim(" ~ column ~ ")), 'UTC', '')" -%}
    case
        when {{ text }} in ('', 'Z') then 0
        when {{ matches(text, '^[+-][0-9]{2}(:?[0-9]{2})?$') }}
            then (case when substring({{ text }}, 1, 1) = '-' then -1 else 1 end) * (
                cast(substring({{ text }}, 2, 2) as {{ dbt.type_int() }}) * 60
                + case
                    when length({{ text }}) > 3
                        then cast(substring({{ text }}, length({{ text }}) - 1, 2) as {{ dbt.type_int() }})
                    else 0
                end
            )
    end
{%- endmacro %}

{#- The offset at the end of an ISO 8601 time (`…-06:00` → -360, `…Z` → 0); null without one. -#}
{% macro iso_offset_minutes(column) -%}
    case
        when {{ matches('trim(' ~ column ~ ')', 'T?[0-9]{2}:[0-9]{2}:[0-9]{2}([.][0-9]+)?Z$') }} then 0
        when {{ matches('trim(' ~ column ~ ')', '[0-9]{2}:[0-9]{2}:[0-9]{2}([.][0-9]+)?[+-][0-9]{2}:[0-9]{2}$') }}
            then {{ offset_minutes('substring(trim(' ~ column ~ '), length(trim(' ~ column ~ ')) - 5, 6)') }}
    end
{%- endmacro %}

{#- A timestamp moved by a number of minutes (local = UTC + offset; UTC = local - offset). -#}
{% macro plus_minutes(timestamp, minutes) -%}
    {{ dbt.dateadd('minute', minutes, '(' ~ timestamp ~ ')') }}
{%- endmacro %}

{#- The calendar date of a number of milliseconds since 1970-01-01 00:00 UTC (Samsung's
    `day_time`: the local date, written as its midnight in UTC). -#}
{% macro epoch_ms_to_date(column) -%}
    cast({{ dbt.dateadd('day', 'cast(floor(' ~ column ~ ' / 86400000) as ' ~ dbt.type_int() ~ ')', "cast('1970-01-01' as date)") }} as date)
{%- endmacro %}

{#- A duration written `H:MM:SS`, `HH:MM:SS.s` or `MM:SS` (Garmin), in minutes; else null. -#}
{% macro duration_text_minutes(column) -%}
    case
        when {{ matches('trim(' ~ column ~ ')', '^[0-9]+:[0-9]{2}:[0-9]{2}([.][0-9]+)?$') }}
            then cast({{ colon_field('trim(' ~ column ~ ')', 1) }} as {{ decimal_type() }}) * 60
                + cast({{ colon_field('trim(' ~ column ~ ')', 2) }} as {{ decimal_type() }})
                + cast({{ colon_field('trim(' ~ column ~ ')', 3) }} as {{ decimal_type() }}) / 60
        when {{ matches('trim(' ~ column ~ ')', '^[0-9]+:[0-9]{2}([.][0-9]+)?$') }}
            then cast({{ colon_field('trim(' ~ column ~ ')', 1) }} as {{ decimal_type() }})
                + cast({{ colon_field('trim(' ~ column ~ ')', 2) }} as {{ decimal_type() }}) / 60
    end
{%- endmacro %}

{#- The n-th (from 1) `:`-separated field of a text. Spark splits on its own: dbt-spark's
    split_part escapes the delimiter with a `'\\'` literal, which dbt's unit tests then
    misread (their fixtures are spliced in with sqlparse, whose strings end at that quote),
    cutting the model's SQL short. -#}
{% macro colon_field(text, n) -%}
    {{ return(adapter.dispatch('colon_field', 'wearable')(text, n)) }}
{%- endmacro %}

{% macro default__colon_field(text, n) -%}
    {{ dbt.split_part(text, "':'", n) }}
{%- endmacro %}

{% macro spark__colon_field(text, n) -%}
    element_at(split({{ text }}, ':'), {{ n }})
{%- endmacro %}

{#- The text of a top-level field of a JSON object held as text (Withings' `Data` column);
    null when the text is not a JSON object or lacks the field. -#}
{% macro json_field_text(column, field) -%}
    {{ return(adapter.dispatch('json_field_text', 'wearable')(column, field)) }}
{%- endmacro %}

{% macro postgres__json_field_text(column, field) -%}
    case
        when pg_input_is_valid({{ column }}, 'jsonb')
            and jsonb_typeof(cast({{ column }} as jsonb)) = 'object'
            then cast({{ column }} as jsonb) ->> '{{ field }}'
    end
{%- endmacro %}

{% macro default__json_field_text(column, field) -%}
    case
        when {{ default__json_object_text(column) }} is not null
            then get_json_object({{ column }}, '$.{{ field }}')
    end
{%- endmacro %}

{#- The text itself when it is a JSON object, else null (for the parse check). -#}
{% macro json_object_text(column) -%}
    {{ return(adapter.dispatch('json_object_text', 'wearable')(column)) }}
{%- endmacro %}

{% macro postgres__json_object_text(column) -%}
    case
        when pg_input_is_valid({{ column }}, 'jsonb')
            and jsonb_typeof(cast({{ column }} as jsonb)) = 'object'
            then {{ column }}
    end
{%- endmacro %}

{#- Spark: get_json_object reads any JSON value and from_json forgives text after the value
    and single quotes, so the text must also begin and end as an object does, and parse as
    one with single quotes refused. -#}
{% macro default__json_object_text(column) -%}
    case
        when left(trim({{ column }}), 1) = '{'
            and right(trim({{ column }}), 1) = '}'
            and from_json(
                {{ column }}, 'map<string,string>', map('allowSingleQuotes', 'false')
            ) is not null
            then {{ column }}
    end
{%- endmacro %}

{#- The number of elements and the sum of a JSON array of numbers held as text (Withings'
    raw_tracker files: `[60,60,61]`); null when the text is not such an array. -#}
{% macro json_number_array_length(column) -%}
    {{ return(adapter.dispatch('json_number_array_length', 'wearable')(column)) }}
{%- endmacro %}

{% macro postgres__json_number_array_length(column) -%}
    case
        when {{ _is_json_number_array(column) }}
            then jsonb_array_length(cast({{ column }} as jsonb))
    end
{%- endmacro %}

{% macro default__json_number_array_length(column) -%}
    case
        when {{ _is_json_number_array_text(column) }}
            then size(from_json({{ column }}, 'array<string>'))
    end
{%- endmacro %}

{% macro json_number_array_sum(column) -%}
    {{ return(adapter.dispatch('json_number_array_sum', 'wearable')(column)) }}
{%- endmacro %}

{% macro postgres__json_number_array_sum(column) -%}
    case
        when {{ _is_json_number_array(column) }}
            then (
                select coalesce(sum(cast(element as numeric)), 0)
                from jsonb_array_elements(cast({{ column }} as jsonb)) as elements (element)
            )
    end
{%- endmacro %}

{#- Spark: exact decimals, as PostgreSQL's numeric (a double would round the sum). -#}
{% macro default__json_number_array_sum(column) -%}
    case
        when {{ _is_json_number_array_text(column) }}
            then aggregate(
                from_json({{ column }}, 'array<string>'),
                cast(0 as {{ decimal_type() }}),
                (total, element) -> cast(total + cast(element as {{ decimal_type() }}) as {{ decimal_type() }})
            )
    end
{%- endmacro %}

{#- PostgreSQL: the text is a JSON array whose elements are all numbers. -#}
{% macro _is_json_number_array(column) -%}
    (
        pg_input_is_valid({{ column }}, 'jsonb')
        and jsonb_typeof(cast({{ column }} as jsonb)) = 'array'
        and jsonb_path_exists(cast({{ column }} as jsonb), '$[*] ? (@.type() != "number")') is false
    )
{%- endmacro %}

{#- Spark: the text is a JSON array whose elements are all numbers, checked on the text with
    JSON's grammar (from_json forgives what PostgreSQL's jsonb refuses - text after the
    array, `null` elements - and raises on a string where it expects a number). -#}
{% macro _is_json_number_array_text(column) -%}
    {%- set space = '[ \\t\\n\\r]*' -%}
    {%- set number = '-?(0|[1-9][0-9]*)([.][0-9]+)?([eE][-+]?[0-9]+)?' -%}
    coalesce(
        {{ matches(column, '^' ~ space ~ '\\\\[' ~ space ~ '(' ~ number ~ '(' ~ space ~ ',' ~ space ~ number ~ ')*' ~ space ~ ')?\\\\]' ~ space ~ '$') }},
        false
    )
{%- endmacro %}
