{#-
    What the event models need from an engine beyond dbt's cross-database macros, each behind
    adapter.dispatch: reading a field of the stored JSON event, and the local date of an
    instant in a named time zone (PostgreSQL knows zone names from pg_timezone_names).
-#}

{#- The text of `path` (field names) in a JSON column: `json_text('event', 'payload', 'vendor')`. -#}
{% macro json_text(column, path) -%}
    {{ return(adapter.dispatch('json_text', 'wearable')(column, path)) }}
{%- endmacro %}

{% macro postgres__json_text(column, path) -%}
    ({{ column }} #>> '{{ "{" ~ path | join(",") ~ "}" }}')
{%- endmacro %}

{% macro default__json_text(column, path) -%}
    get_json_object({{ column }}, '$.{{ path | join('.') }}')
{%- endmacro %}

{#- The zone names the engine knows, as rows (`timezone`): an unknown name falls back to UTC. -#}
{% macro known_time_zones() -%}
    {{ return(adapter.dispatch('known_time_zones', 'wearable')()) }}
{%- endmacro %}

{% macro postgres__known_time_zones() -%}
    select distinct name as timezone from pg_timezone_names
{%- endmacro %}

{#- Spark has no table of zone names: the IANA names of the tz database dbt ships (pytz),
    as rows. Java knows the same database, so a listed name never makes from_utc_timestamp
    raise. -#}
{% macro spark__known_time_zones() -%}
    select timezone from values
    {%- for name in modules.pytz.all_timezones %}
        ('{{ name }}'){{ ',' if not loop.last }}
    {%- endfor %}
        as known(timezone)
{%- endmacro %}

{#- The local calendar date of an instant in a time zone known to the engine. -#}
{% macro local_date(instant, time_zone) -%}
    {{ return(adapter.dispatch('local_date', 'wearable')(instant, time_zone)) }}
{%- endmacro %}

{% macro postgres__local_date(instant, time_zone) -%}
    cast({{ instant }} at time zone {{ time_zone }} as date)
{%- endmacro %}

{% macro default__local_date(instant, time_zone) -%}
    to_date(from_utc_timestamp({{ instant }}, {{ time_zone }}))
{%- endmacro %}
