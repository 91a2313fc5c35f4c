{#-
    Every value written in the source parsed: the staging model's `parse_errors` column (see
    macros/parsing.sql) is null on every row. Fails with the load and file line of each row
    that did not, and what did not parse - never a silent null.
-#}
{% test all_values_parse(model, column_name) %}

select
    load_id,
    source_row_number,
    {{ column_name }} as unparsed_values
from {{ model }}
where {{ column_name }} is not null

{% endtest %}
